package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

class PromQlTest {

    @Test
    void namesTheMetricsAndNothingElse() {
        assertEquals(Set.of("execfarm_execution_latency_seconds_bucket"), PromQl.metricNames(
                "histogram_quantile(0.95, sum by (le, runtime) (rate(execfarm_execution_latency_seconds_bucket"
                        + "{job=~\"$job\", runtime!=\"a b}\"}[$__rate_interval])))"));
        assertEquals(Set.of("execfarm_process_restarts_total", "execfarm_executions_total"), PromQl.metricNames(
                "sum by (instance, runtime) (rate(execfarm_process_restarts_total[10m]))\n"
                        + "> 0.5 * sum by (instance, runtime) (rate(execfarm_executions_total[10m])) and on (runtime) "
                        + "execfarm_executions_total offset 5m > bool 0"));
        assertEquals(Set.of("up"), PromQl.metricNames("deriv(max(up)[10m:1m]) > 0"));
    }
}
