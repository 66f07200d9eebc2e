package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {

    private static final String METRICS = """
            # HELP execfarm_pool_processes Processes of a runtime's pool, by state
            # TYPE execfarm_pool_processes gauge
            execfarm_pool_processes{runtime="python",state="idle"} 3.0
            execfarm_pool_processes{runtime="python",state="busy"} 1.0
            execfarm_pool_processes_other{runtime="python"} 9.0
            execfarm_session_pinned_processes{runtime="python"} 1.0
            execfarm_tenant_in_flight{tenant="a \\"quoted\\" one"} 2.0
            execfarm_tenant_in_flight{tenant="b"} 5.0
            execfarm_kafka_clients{kind="consumer"} 4.0
            execfarm_kafka_clients{kind="producer"} 2.0
            execfarm_kafka_clients{kind="admin"} 1.0
            """;

    @Test
    void samplesOfOneMetricWithTheirLabels() {
        List<PrometheusText.Sample> pool = PrometheusText.samples(METRICS, "execfarm_pool_processes");
        assertEquals(List.of(new PrometheusText.Sample(Map.of("runtime", "python", "state", "idle"), 3.0),
                new PrometheusText.Sample(Map.of("runtime", "python", "state", "busy"), 1.0)), pool);
        assertEquals("a \"quoted\" one",
                PrometheusText.samples(METRICS, "execfarm_tenant_in_flight").get(0).labels().get("tenant"));
    }

    @Test
    void statusLinesSumAndNameWhatTheyShow() {
        assertEquals("python: 3 idle, 1 busy (1 held by sessions), 0 starting", StatusCommand.pools(METRICS));
        assertEquals("in flight: 7", StatusCommand.inFlight(METRICS));
        assertEquals("", StatusCommand.pools(""));
        assertEquals("kafka clients: 7 (4 consumers, 2 producers, 1 admin)", StatusCommand.kafkaClients(METRICS));
        assertEquals("kafka clients: 0 (0 consumers, 0 producers, 0 admin)", StatusCommand.kafkaClients(""));
        assertEquals("kafka clients: 2 (1 consumer, 1 producer, 0 admin)", StatusCommand.kafkaClients(
                "execfarm_kafka_clients{kind=\"consumer\"} 1.0\nexecfarm_kafka_clients{kind=\"producer\"} 1.0\n"));
    }
}
