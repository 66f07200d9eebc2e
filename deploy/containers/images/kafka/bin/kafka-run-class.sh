#!/usr/bin/env bash
# kafka-run-class.sh CLASS [ARGS...]: a class of Kafka's on its jars, as Kafka's own script does.
set -euo pipefail
class=$1
shift
exec java ${KAFKA_HEAP_OPTS:--Xmx1G -Xms256m} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC} \
  ${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/etc/kafka/docker/tools-log4j2.yaml} ${KAFKA_OPTS:-} \
  -cp '/opt/kafka/libs/*' "$class" "$@"
