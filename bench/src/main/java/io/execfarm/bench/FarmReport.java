package io.execfarm.bench;

import static io.execfarm.bench.SecurityCostBenchmark.Broker.OPEN;
import static io.execfarm.bench.SecurityCostBenchmark.Broker.SECURED;

import io.execfarm.farm.LocalFarm;
import io.execfarm.worker.runtime.KnownRuntimes;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/** The {@code farm} section of the benchmarks document: every figure of one {@code ./farm bench} run. */
final class FarmReport {

    /** Everything one run measured, and how. */
    record Results(String command, Plan plan, double minutes, FirstRequests first, LatencyBenchmark.Results latency,
            int latencyWorkers, List<WarmColdBenchmark.Row> warmCold, Optional<SysimageBenchmark.Results> sysimage,
            List<ScalingBenchmark.Throughput> scaling,
            ScalingBenchmark.Takeover takeover, List<Breakdown> breakdowns, TracingCostBenchmark.Results tracing,
            LocalFarm.WorkerClients kafkaClients, Map<String, Path> charts, String applicationsJvm) {
    }

    private FarmReport() {
    }

    static String render(Results r, Path reportDir) {
        StringBuilder out = new StringBuilder();
        out.append("## The farm end to end: `").append(r.command()).append("`\n\n");
        out.append("Measured ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(" on ")
                .append(Machine.describe()).append(" (the benchmark; ").append(r.applicationsJvm()).append(")")
                .append(", by `").append(r.command()).append("` (").append(r.plan().name())
                .append(" plan, ").append(f1(r.minutes())).append(" minutes). Everything ran on this one machine: a Kafka ")
                .append("broker (24 partitions per request topic), Redis, a dispatcher, the workers (")
                .append(Plan.POOL).append(" Python processes each")
                .append(WarmColdBenchmark.coversJulia(r.warmCold()) ? ", and " + r.plan().juliaPool() + " Julia" : "")
                .append(") and the client.")
                .append(WarmColdBenchmark.coversJulia(r.warmCold()) ? "" : " **The farm had no Julia: Python only.**")
                .append("\n\n");
        goals(out, r);
        latency(out, r, reportDir);
        warmCold(out, r);
        scaling(out, r, reportDir);
        breakdown(out, r, reportDir);
        r.sysimage().ifPresent(s -> sysimage(out, s));
        return out.toString();
    }

    private static void goals(StringBuilder out, Results r) {
        out.append("### Goals\n\nIssue 30's, as ratios to the bare baseline measured in the same run.\n\n")
                .append("| goal | target | measured | |\n|---|---|---|---|\n");
        int top = r.plan().highestConcurrency();
        LatencyBenchmark.Level bare1 = level(r, LatencyBenchmark.Path.BARE, 1);
        LatencyBenchmark.Level bareTop = level(r, LatencyBenchmark.Path.BARE, top);
        for (LatencyBenchmark.Path path : List.of(LatencyBenchmark.Path.KAFKA, LatencyBenchmark.Path.KAFKA_SHARED)) {
            LatencyBenchmark.Level one = level(r, path, 1);
            LatencyBenchmark.Level many = level(r, path, top);
            double throughput = many.run().perSecond() / bareTop.run().perSecond();
            goal(out, path.label + ", " + top + " clients, requests/s against the baseline's", "≥ 0.7×",
                    String.format(Locale.ROOT, "%s (%.0f against %.0f)", times(throughput), many.run().perSecond(),
                            bareTop.run().perSecond()), throughput >= 0.7);
            double p99 = ms(many.latency(), 99) / ms(bareTop.latency(), 99);
            goal(out, path.label + ", " + top + " clients, p99 against the baseline's", "≤ 2×",
                    times(p99) + " (" + f1(ms(many.latency(), 99)) + " against " + f1(ms(bareTop.latency(), 99)) + " ms)",
                    p99 <= 2);
            double p50 = ms(one.latency(), 50) / ms(bare1.latency(), 50);
            goal(out, path.label + ", 1 client, p50 against the baseline's", "≤ 1.1×",
                    times(p50) + " (" + f1(ms(one.latency(), 50)) + " against " + f1(ms(bare1.latency(), 50)) + " ms)",
                    p50 <= 1.1);
        }
        LatencyBenchmark.Level kafkaTop = level(r, LatencyBenchmark.Path.KAFKA, top);
        double cpu = kafkaTop.cpu().total() / bareTop.cpu().total();
        goal(out, "CPU per execution, whole machine (Kafka, partitioned, " + top + " clients), against the baseline's",
                "≤ 1.5×", times(cpu) + " (" + f1(kafkaTop.cpu().total()) + " against " + f1(bareTop.cpu().total())
                        + " ms)", cpu <= 1.5);
        LatencyBenchmark.Level shared1 = level(r, LatencyBenchmark.Path.KAFKA_SHARED, 1);
        LatencyBenchmark.Level sharedTop = level(r, LatencyBenchmark.Path.KAFKA_SHARED, top);
        LatencyBenchmark.Level http1 = level(r, LatencyBenchmark.Path.HTTP, 1);
        LatencyBenchmark.Level httpTop = level(r, LatencyBenchmark.Path.HTTP, top);
        double httpThroughput = httpTop.run().perSecond() / sharedTop.run().perSecond();
        goal(out, "HTTP, " + top + " clients, requests/s against the Kafka path it takes (shared)", "≥ 0.8",
                String.format(Locale.ROOT, "%.2f (%.0f against %.0f)", httpThroughput, httpTop.run().perSecond(),
                        sharedTop.run().perSecond()), httpThroughput >= 0.8);
        double httpExtra = ms(http1.latency(), 50) - ms(shared1.latency(), 50);
        goal(out, "HTTP, 1 client, p50 beyond the Kafka path it takes (shared)", "≤ +1.5 ms",
                (httpExtra >= 0 ? "+" : "") + f1(httpExtra) + " ms", httpExtra <= 1.5);
        double first = r.first().p50() / ms(http1.latency(), 50);
        goal(out, "first " + r.first().requests() + " HTTP requests after the farm is up, p50, against steady state",
                "≤ 1.3×", String.format(Locale.ROOT, "%.1f× (%.1f ms against %.1f ms)", first, r.first().p50(),
                        ms(http1.latency(), 50)), first <= 1.3);
        LocalFarm.WorkerClients clients = r.kafkaClients();
        goal(out, "Kafka clients per worker (this one serving " + String.join(" and ", clients.runtimes()) + ")",
                "≤ 5 for two runtimes", clients.detail().replace("kafka clients: ", ""),
                clients.total() <= 5);
        ScalingBenchmark.Throughput last = r.scaling().get(r.scaling().size() - 1);
        double efficiency = efficiency(r.scaling(), last);
        goal(out, "scaling efficiency at " + last.workers() + " workers (sleep-bound jobs)", "≥ 90%", pct(efficiency),
                efficiency >= 0.9);
        double tracingCost = r.tracing().cpuCost();
        goal(out, "throughput lost to exporting every trace (HTTP, concurrency " + r.tracing().top()
                + "; from the applications' CPU per request, see \"What tracing costs\")", "< 5%",
                pct(tracingCost) + " (throughput itself: " + pct(r.tracing().throughputCost()) + ")", tracingCost < 0.05);
        out.append("| warm/cold ratio (fresh process ÷ farm through Kafka, p50) | as large as the runtime allows | ")
                .append(r.warmCold().stream().map(w -> w.snippet().runtime() + " " + w.snippet().name() + " "
                        + f1(w.ratio()) + "×").collect(Collectors.joining("; "))).append(" | |\n\n");
    }

    private static void goal(StringBuilder out, String what, String target, String measured, boolean met) {
        out.append("| ").append(what).append(" | ").append(target).append(" | ").append(measured).append(" | ")
                .append(met ? "met" : "**missed**").append(" |\n");
    }

    /** The latency levels alone, their comparison with the bare baseline, CPU by process and breakdown, without charts. */
    static String renderLatency(LatencyBenchmark.Results latency, int workers, int warmUpRequests) {
        StringBuilder out = new StringBuilder();
        latencyTable(out, latency, workers, warmUpRequests);
        List<Integer> concurrencies = latency.levels().stream().map(LatencyBenchmark.Level::concurrency).distinct().toList();
        bareRatios(out, latency, concurrencies);
        cpu(out, latency);
        breakdownTable(out, latency.levels().stream().filter(l -> l.path() != LatencyBenchmark.Path.BARE)
                .map(Breakdown::of).toList());
        return out.toString();
    }

    private static void latency(StringBuilder out, Results r, Path reportDir) {
        latencyTable(out, r.latency(), r.latencyWorkers(), r.plan().warmUpRequests());
        out.append(image(r, "latency", reportDir)).append("\n\n");
        bareRatios(out, r.latency(), r.plan().concurrencies());
        cpu(out, r.latency());
    }

    private static void latencyTable(StringBuilder out, LatencyBenchmark.Results latency, int workers, int warmUpRequests) {
        out.append("### 1. Latency\n\n");
        out.append("A trivial snippet (`").append(LatencyBenchmark.TRIVIAL).append("`) on a farm of ")
                .append(workers).append(" workers. Each of *c* clients sends its next request when its last ")
                .append("result arrived. **Kafka**: the Java client (`client/`: one producer, one reply consumer; its own ")
                .append("cost over plain clients is the `client` section) sends straight to the runtime topics. ")
                .append("**HTTP**: `POST /v1/executions?wait=true` ")
                .append("to the dispatcher. Latency runs from the client's send to the client holding the result; ")
                .append("overhead is that less the execution time the worker measured. After ")
                .append(warmUpRequests).append(" warm-up requests per path.\n\n");
        Histogram hop = latency.hop();
        out.append(String.format(Locale.ROOT, "For scale: one Kafka hop on this broker (a record produced and consumed "
                + "by the benchmark's own clients, no worker) takes p50 %.1f ms, p99 %.1f ms (%d records). A request "
                + "makes two hops, the request and its result, so about %.1f ms of any Kafka-path latency here is the "
                + "broker's and the clients', whatever the farm does.%n%n", ms(hop, 50), ms(hop, 99), hop.getTotalCount(),
                2 * ms(hop, 50)));
        out.append("| path | concurrency | requests | requests/s | p50 ms | p90 ms | p99 ms | max ms | overhead p50 ms | overhead p99 ms |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (LatencyBenchmark.Level level : latency.levels()) {
            Histogram h = level.latency();
            Histogram o = level.overhead();
            out.append(String.format(Locale.ROOT, "| %s | %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n",
                    level.path().label, level.concurrency(), h.getTotalCount(), level.run().perSecond(), ms(h, 50),
                    ms(h, 90), ms(h, 99), h.getMaxValue() / 1000.0, ms(o, 50), ms(o, 99)));
        }
        out.append("\n");
    }

    /** The farm against the bare baseline at each concurrency: the overhead to shrink. */
    private static void bareRatios(StringBuilder out, LatencyBenchmark.Results latency, List<Integer> concurrencies) {
        out.append("**Against the bare baseline** (a consumer that runs each request on one warm Python process over ")
                .append("a pipe and produces the result: no Redis, no framework, no sandbox, no claim, no events but ")
                .append("the result). Latency ratios are farm ÷ baseline, throughput ratios baseline ÷ farm, so ")
                .append("1.0× everywhere would mean the farm costs nothing over the bare path.\n\n");
        out.append("| concurrency | baseline p50 ms | baseline p99 ms | baseline requests/s | Kafka partitioned p50 | p99 | ")
                .append("throughput | Kafka shared p50 | p99 | throughput | HTTP (shared) p50 | p99 | throughput |\n")
                .append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int concurrency : concurrencies) {
            LatencyBenchmark.Level bare = level(latency, LatencyBenchmark.Path.BARE, concurrency);
            out.append(String.format(Locale.ROOT, "| %d | %.1f | %.1f | %.0f", concurrency, ms(bare.latency(), 50),
                    ms(bare.latency(), 99), bare.run().perSecond()));
            for (LatencyBenchmark.Path path : List.of(LatencyBenchmark.Path.KAFKA, LatencyBenchmark.Path.KAFKA_SHARED,
                    LatencyBenchmark.Path.HTTP)) {
                LatencyBenchmark.Level farm = level(latency, path, concurrency);
                out.append(" | ").append(ratio(ms(farm.latency(), 50), ms(bare.latency(), 50)))
                        .append(" | ").append(ratio(ms(farm.latency(), 99), ms(bare.latency(), 99)))
                        .append(" | ").append(ratio(bare.run().perSecond(), farm.run().perSecond()));
            }
            out.append(" |\n");
        }
        out.append("\n");
    }

    /** Milliseconds of CPU per request by process, for every latency level, from /proc in the same run. */
    private static void cpu(StringBuilder out, LatencyBenchmark.Results latency) {
        List<String> roles = latency.levels().get(0).cpu().msPerRequest().keySet().stream().toList();
        out.append("**CPU per execution by process**, in ms per request over each level above (from `/proc`: each ")
                .append("process with its descendants; *runtime processes* are every process under a worker, those ")
                .append("it already reaped included; *rest* is the machine's busy time that none of these account ")
                .append("for; *total* is the whole machine's, all cores; *of which JIT* is the part of the ")
                .append("dispatcher's and the workers' columns that their C1 and C2 compiler threads spent, from ")
                .append("`/proc/<pid>/task`). Machine busy is the share of both cores in use over the level.\n\n");
        out.append("| level | ").append(String.join(" | ", roles)).append(" | machine busy |\n|---|")
                .append("---:|".repeat(roles.size() + 1)).append("\n");
        for (LatencyBenchmark.Level level : latency.levels()) {
            out.append("| ").append(level.label());
            for (String role : roles) {
                out.append(String.format(Locale.ROOT, " | %.2f", level.cpu().msPerRequest().getOrDefault(role, 0.0)));
            }
            double busy = level.cpu().total() * level.run().perSecond() / 1000 / Machine.cores();
            out.append(" | ").append(pct(busy)).append(" |\n");
        }
        out.append("\n");
    }

    private static void warmCold(StringBuilder out, Results r) {
        out.append("### 2. Warm versus cold\n\n");
        out.append("The same snippets on the farm's warm processes (one at a time, through each path) and in a fresh ")
                .append("process per request, the way a naive executor runs them (`").append(WarmColdBenchmark.python())
                .append(" -c CODE`, `julia --startup-file=no --history-file=no -e CODE`), and the same with the flags ")
                .append("the farm starts its processes with (Python `").append(String.join(" ", KnownRuntimes.python().flags()))
                .append("`, Julia `").append(String.join(" ", KnownRuntimes.julia().flags())).append("`), ")
                .append("alternating in the same run. The ratio is fresh ÷ farm through Kafka, p50 against p50.\n\n");
        out.append("| runtime | snippet | fresh p50 ms | fresh p99 ms | fresh, farm's flags p50 ms | farm via Kafka p50 ms "
                + "| farm via Kafka p99 ms | farm via HTTP p50 ms | fresh ÷ farm |\n");
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (WarmColdBenchmark.Row row : r.warmCold()) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f× |%n",
                    row.snippet().runtime(), row.snippet().name(), ms(row.fresh(), 50), ms(row.fresh(), 99),
                    ms(row.freshFarmFlags(), 50), ms(row.kafka(), 50), ms(row.kafka(), 99), ms(row.http(), 50),
                    row.ratio()));
        }
        if (!WarmColdBenchmark.coversJulia(r.warmCold())) {
            out.append("\n**Julia rows are missing: the farm had no Julia (none on PATH, and deploy/julia/install-julia ")
                    .append("could not install one).** The same command runs them wherever Julia can be had.\n");
        }
        out.append("\n");
    }

    private static void scaling(StringBuilder out, Results r, Path reportDir) {
        out.append("### 3. Scaling\n\n");
        out.append("Jobs that wait (`time.sleep(0.1)`), so the machine's two cores are not the limit; each measurement ")
                .append("publishes its whole backlog at once, spread evenly over the partitions, and ends when the last ")
                .append("result arrived; before it, ").append(r.plan().scalingWarmUp())
                .append(" trivial requests per worker get every worker's request path ")
                .append("compiled (a worker started moments ago otherwise spends the CPU the others need on its JIT). ")
                .append("Each worker runs ").append(Plan.POOL).append(" Python processes and as many ")
                .append("consumers, so 1, 2 and 4 workers split the 24 partitions evenly. Efficiency is ")
                .append("throughput(N) ÷ (N × throughput(1)).\n\n");
        out.append("| workers | jobs | seconds | jobs/s | efficiency | jobs per worker |\n|---:|---:|---:|---:|---:|---|\n");
        for (ScalingBenchmark.Throughput t : r.scaling()) {
            out.append(String.format(Locale.ROOT, "| %d | %d | %.2f | %.1f | %s | %s |%n", t.workers(), t.jobs(),
                    t.seconds(), t.perSecond(), pct(efficiency(r.scaling(), t)), t.perWorker()));
        }
        out.append(String.format(Locale.ROOT, "%nThe ceiling is %d processes × 10 jobs/s = %.0f jobs/s per worker.%n%n",
                Plan.POOL, Plan.POOL / ScalingBenchmark.JOB_SECONDS));
        out.append(image(r, "scaling", reportDir)).append("\n\n");
        ScalingBenchmark.Takeover t = r.takeover();
        out.append("**A new worker taking its share of a backlog.** ").append(t.workersBefore()).append(" worker")
                .append(t.workersBefore() == 1 ? " was" : "s were").append(" draining a backlog of ").append(t.jobs())
                .append(" jobs when ").append(t.worker()).append(" was started (a new JVM). It was ready after ")
                .append(f1(t.ready())).append(" s, finished its first job after ").append(ScalingBenchmark.seconds(t.firstResult()))
                .append(", and ran its share (at least 90% of 1/").append(t.workersBefore() + 1)
                .append(" of the jobs finished in a one-second window) after ").append(ScalingBenchmark.seconds(t.share()))
                .append(". In between, the consumer group rebalanced: Kafka moved partitions to the new consumers.\n\n");
        out.append(image(r, "takeover", reportDir)).append("\n\n");
    }

    private static void breakdown(StringBuilder out, Results r, Path reportDir) {
        breakdownTable(out, r.breakdowns());
        out.append("\n").append(image(r, "breakdown", reportDir)).append("\n");
    }

    private static void breakdownTable(StringBuilder out, List<Breakdown> breakdowns) {
        out.append("### 4. Where the time goes\n\n");
        out.append("Means per request, in ms, from each result's timings (whole milliseconds) and the client's clock, ")
                .append("for the latency runs above. *To the farm*: HTTP and the dispatcher until it published the ")
                .append("request (0 through Kafka). *Queued*: until a worker's consumer took it. *Worker bookkeeping*: ")
                .append("the worker's steps around the run (delivery count, claim, result lookup, cancel check; the ")
                .append("`started` event only for a run past 20 ms). *Acquire*: waiting for a warm process. *Exec*: the code. *Publish*: the ")
                .append("result stored, published, acknowledged and read by the client (through HTTP, also by the ")
                .append("dispatcher, stored in Redis and answered).\n\n");
        out.append("| path | requests | to the farm | queued | worker bookkeeping | acquire | exec | publish | sum |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Breakdown b : breakdowns) {
            out.append("| ").append(b.label()).append(" | ").append(b.requests());
            b.parts().forEach(part -> out.append(" | ").append(String.format(Locale.ROOT, "%.2f", part)));
            out.append(String.format(Locale.ROOT, " | %.2f |%n", b.total()));
        }
    }

    private static void sysimage(StringBuilder out, SysimageBenchmark.Results s) {
        out.append(s.build() == null ? "\n### 5. Julia on a system image built before the run\n\n"
                : "\n### 5. Julia on a system image built from the farm's own traffic\n\n");
        if (s.failure() != null) {
            out.append("**Not measured:** ").append(s.failure()).append(".\n");
            return;
        }
        if (s.build() == null) {
            out.append("An image built before this run by the same script from the project's recorded traffic (")
                    .append(s.imageBytes() >> 20).append(" MB; `--julia-sysimage`), not from this farm's. Then, alternating ");
        } else {
            out.append("While the parts above ran, the workers recorded what their Julia processes compiled ")
                    .append("(`trace-compile-dir`). `deploy/julia/build-sysimage-incremental` turned those recordings, ")
                    .append("filtered to Core, Base, the standard library and the driver, into an image with the driver ")
                    .append("baked in, in ").append(String.format(Locale.ROOT, "%.0f", s.buildSeconds())).append(" s (")
                    .append(s.build()).append("; ").append(s.imageBytes() >> 20).append(" MB). Then, alternating ");
        }
        out.append("between the shipped image and this one: a fresh `julia` with the farm's flags per request, ")
                .append("and a new sandboxed driver process started and warmed up as a pool starts one, timed to ")
                .append("ready and through its first request. p50 figures.\n\n");
        out.append(String.format(Locale.ROOT, "A new pool process was ready (start and warm-up) after %.0f ms on "
                + "the shipped image and %.0f ms on the built one (p50 of %d each): %.1f×.%n%n",
                ms(s.readyShipped(), 50), ms(s.readyBuilt(), 50), s.readyShipped().getTotalCount(),
                ms(s.readyShipped(), 50) / ms(s.readyBuilt(), 50)));
        out.append("| snippet | fresh, shipped image ms | fresh, built image ms | ratio | new process's first request, "
                + "shipped ms | new process's first request, built ms | ratio |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (SysimageBenchmark.Row row : s.rows()) {
            out.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.1f× | %.1f | %.1f | %.1f× |%n",
                    row.snippet().name(), ms(row.freshShipped(), 50), ms(row.freshBuilt(), 50),
                    ms(row.freshShipped(), 50) / ms(row.freshBuilt(), 50), ms(row.firstShipped(), 50),
                    ms(row.firstBuilt(), 50), ms(row.firstShipped(), 50) / ms(row.firstBuilt(), 50)));
        }
    }

    /** The {@code tracing} section of the benchmarks document: what {@code command} measured of tracing. */
    static String renderTracing(TracingCostBenchmark.Results t, String command, Plan plan) {
        StringBuilder out = sectionHeading("What tracing costs", command, plan);
        out.append("A trivial snippet through the dispatcher's HTTP API (`?wait=true`: the path with the most spans, ")
                .append("about 15 per execution across the dispatcher and the worker) on a farm of ").append(t.workers())
                .append(" worker").append(t.workers() == 1 ? "" : "s").append(" serving Python only, in turns: tracing ")
                .append("off (the default), then every span exported by OTLP/HTTP to a receiver in the benchmark's ")
                .append("process that takes and discards them as a collector would. Each row ran on a farm started ")
                .append("afresh and warmed up first. *Application CPU* is what the dispatcher's and the workers' ")
                .append("JVMs spent per request at concurrency ").append(t.top())
                .append(" (the runtime processes, which tracing does not touch, are left out).");
        if (plan.smoke()) {
            out.append(" This smoke run shared its farms with the other parts instead (off on the latency runs' farm, ")
                    .append("exporting on the share groups' farm of one worker): its figures compare nothing.");
        }
        out.append("\n\n");
        out.append("| tracing | p50 at concurrency 1 ms | p99 at concurrency 1 ms | requests/s at concurrency ")
                .append(t.top()).append(" | application CPU per request ms | OTLP exports |\n")
                .append("|---|---:|---:|---:|---:|---:|\n");
        for (TracingCostBenchmark.Measurement m : t.measurements()) {
            out.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.0f | %.2f | %d |%n",
                    m.exporting() ? "exporting" : "off", ms(m.latency(), 50), ms(m.latency(), 99), m.perSecond(),
                    m.appCpuMs(), m.exports()));
        }
        out.append(String.format(Locale.ROOT, "%nExporting changed the applications' CPU per request by %s: a farm "
                + "they bound would lose %s of its throughput. The throughput measured at concurrency %d changed by %s "
                + "(the rounds with tracing off alone spread over %s of their median); the p50 at concurrency 1 was "
                + "%.2f× that with tracing off. Medians of the rounds.%n",
                pct(t.cpuCost() / (1 - t.cpuCost())), pct(t.cpuCost()), t.top(), pct(-t.throughputCost()),
                pct(t.offSpread()), t.latencyRatio()));
        return out.toString();
    }

    /** The {@code security} section: the same load on farms whose broker is secured and open, in turns. */
    static String renderSecurity(FarmComparison<SecurityCostBenchmark.Broker> r, String command, Plan plan) {
        StringBuilder out = sectionHeading("What Kafka security costs", command, plan);
        out.append("A trivial snippet through the dispatcher's HTTP API (`?wait=true`) on a farm of ").append(r.workers())
                .append(" workers serving Python only, in turns: the broker open (PLAINTEXT, no authorizer: ")
                .append("`deploy/local/infra start --open`), then secured as every farm runs (SASL on every connection, ")
                .append("SCRAM-SHA-512 for the services, `StandardAuthorizer` with ACLs and nothing allowed by default). ")
                .append("Each row ran on a farm started afresh and warmed up first. CPU is per request at concurrency ")
                .append(r.top()).append(": *application* is the dispatcher's and the workers' JVMs, *broker* the broker's.")
                .append("\n\n");
        out.append("| broker | p50 at 1 ms | p99 at 1 ms | p50 at ").append(r.top()).append(" ms | p99 at ").append(r.top())
                .append(" ms | requests/s at ").append(r.top()).append(" | application CPU per request ms | broker CPU per request ms |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (FarmComparison.Measurement<SecurityCostBenchmark.Broker> m : r.measurements()) {
            HttpLoad l = m.load();
            out.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.2f | %.2f |%n",
                    m.setup() == SECURED ? "secured" : "open", ms(l.latencyAtOne(), 50), ms(l.latencyAtOne(), 99),
                    ms(l.latencyAtTop(), 50), ms(l.latencyAtTop(), 99), l.perSecond(), l.appCpuMs(), l.brokerCpuMs()));
        }
        out.append(String.format(Locale.ROOT, "%nSecured over open, medians of the rounds: p50 at concurrency 1 %s, "
                + "p50 at concurrency %d %s, throughput %s, application CPU per request %s, broker CPU per request %s.%n",
                times(r.ratio(SECURED, OPEN, l -> ms(l.latencyAtOne(), 50))), r.top(),
                times(r.ratio(SECURED, OPEN, l -> ms(l.latencyAtTop(), 50))), times(r.ratio(SECURED, OPEN, HttpLoad::perSecond)),
                times(r.ratio(SECURED, OPEN, HttpLoad::appCpuMs)), times(r.ratio(SECURED, OPEN, HttpLoad::brokerCpuMs))));
        return out.toString();
    }

    static String renderCluster(FarmComparison<ClusterCostBenchmark.Setup> r, String command, Plan plan) {
        StringBuilder out = sectionHeading("One node against a cluster", command, plan);
        out.append("A trivial snippet through the dispatcher's HTTP API (`?wait=true`) on a farm of ").append(r.workers())
                .append(" workers serving Python only, in turns: one broker and one Redis (`./farm up`); three brokers, ")
                .append("topics replicated three times with two copies acknowledging each write, and a Redis Cluster of ")
                .append("three masters with a replica each, every node a local process on the same machine (`./farm up ")
                .append("--cluster`), the workers' claims, results and session histories waiting for a replica (`WAIT`); ")
                .append("and the same cluster without that wait. Each row ran on a farm started afresh and warmed up ")
                .append("first. CPU is per request at concurrency ").append(r.top()).append(": *application* is the ")
                .append("dispatcher's and the workers' JVMs, *brokers* and *Redis* every node of each.\n\n");
        out.append("| farm | p50 at 1 ms | p99 at 1 ms | p50 at ").append(r.top()).append(" ms | p99 at ").append(r.top())
                .append(" ms | requests/s at ").append(r.top())
                .append(" | application CPU per request ms | brokers' CPU per request ms | Redis CPU per request ms |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (FarmComparison.Measurement<ClusterCostBenchmark.Setup> m : r.measurements()) {
            HttpLoad l = m.load();
            out.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.2f | %.2f | %.2f |%n",
                    m.setup().label, ms(l.latencyAtOne(), 50), ms(l.latencyAtOne(), 99), ms(l.latencyAtTop(), 50),
                    ms(l.latencyAtTop(), 99), l.perSecond(), l.appCpuMs(), l.brokerCpuMs(), l.redisCpuMs()));
        }
        ClusterCostBenchmark.Setup cluster = ClusterCostBenchmark.Setup.CLUSTER;
        ClusterCostBenchmark.Setup noWait = ClusterCostBenchmark.Setup.CLUSTER_NO_WAIT;
        ClusterCostBenchmark.Setup single = ClusterCostBenchmark.Setup.SINGLE;
        out.append(String.format(Locale.ROOT, "%nThe cluster (writes waiting) over one node, medians of the rounds: p50 at "
                + "concurrency 1 %s, p99 at concurrency %d %s, throughput %s. The wait for a replica, the cluster with it "
                + "over the cluster without: p50 at concurrency 1 %s, p50 at concurrency %d %s, throughput %s.%n",
                times(r.ratio(cluster, single, l -> ms(l.latencyAtOne(), 50))), r.top(),
                times(r.ratio(cluster, single, l -> ms(l.latencyAtTop(), 99))),
                times(r.ratio(cluster, single, HttpLoad::perSecond)),
                times(r.ratio(cluster, noWait, l -> ms(l.latencyAtOne(), 50))), r.top(),
                times(r.ratio(cluster, noWait, l -> ms(l.latencyAtTop(), 50))),
                times(r.ratio(cluster, noWait, HttpLoad::perSecond))));
        return out.toString();
    }

    static String renderShareGroups(ShareGroupBenchmark.Results r, String command, Plan plan) {
        StringBuilder out = sectionHeading("Past the partition count: consumer group against share group", command, plan);
        out.append("Request topics of ").append(r.partitions()).append(" partitions; workers of one Python process, so ")
                .append("one consumer each in each group; jobs of ").append((int) (ShareGroupBenchmark.JOB_SECONDS * 1000))
                .append(" ms of `time.sleep`, sent to the partitions in turn, published to the partition-ordered topic ")
                .append("(consumer group) or to the shared topic (share group). *Scaling efficiency* is the ")
                .append("throughput over the consumers times the same group's throughput with one consumer (a consumer ")
                .append("group cannot pass partitions ÷ consumers); *of ideal* is the throughput over what the consumers ")
                .append("could do if none ever waited (consumers ÷ job length), so it also counts each job's own ")
                .append("overhead (the request's claim, events and result, and the fetch of the next).\n\n");
        out.append("| group | workers (consumers) | partitions | jobs | seconds | jobs/s | scaling efficiency | of ideal "
                + "| jobs per worker |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (ShareGroupBenchmark.Throughput t : r.throughputs()) {
            out.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %.1f | %.1f | %s | %s | %s |%n",
                    t.mode().label, t.consumers(), r.partitions(), t.jobs(), t.seconds(), t.perSecond(),
                    pct(r.scalingEfficiency(t)), pct(t.ofIdeal()), t.perWorker().values()));
        }
        ShareGroupBenchmark.Throughput classic = r.throughput(ShareGroupBenchmark.Mode.CONSUMER_GROUP, r.workers());
        ShareGroupBenchmark.Throughput shared = r.throughput(ShareGroupBenchmark.Mode.SHARE_GROUP, r.workers());
        out.append(String.format(Locale.ROOT, "%nOn %d workers the share group drained its backlog at %s the consumer "
                + "group's rate, with a scaling efficiency of %s against the consumer group's %s (capped at %s).%n%n",
                r.workers(), ratio(shared.perSecond(), classic.perSecond()), pct(r.scalingEfficiency(shared)),
                pct(r.scalingEfficiency(classic)), pct((double) r.partitions() / r.workers())));
        out.append("A worker joining under a backlog one worker was draining (seconds after the new worker's start; ")
                .append("its *consumer started* when the request channel's consumer connected (consumer group) or when ")
                .append("its share consumer began polling, once its process was warm (share group), by its log; *its ")
                .append("share* is the end of the first second in which it finished at least 90% of half the jobs; a job ")
                .append("is *taken* when its queue time ends, by the worker's clock):\n\n");
        out.append("| group | jobs | consumer started s | ready s | first job taken s | first job taken after its "
                + "consumer started s | first result s | its share s |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ShareGroupBenchmark.Takeover t : r.takeovers()) {
            out.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %s | %s | %s | %s |%n", t.mode().label,
                    t.jobs(), t.consumerStarted(), t.ready(), orNever(t.firstTaken()),
                    orNever(t.firstTakenAfterConsumerStarted()), orNever(t.firstResult()), orNever(t.share())));
        }
        return out.toString();
    }

    /** A section's title, naming the command that measured it, and when, where and with which plan it did. */
    private static StringBuilder sectionHeading(String title, String command, Plan plan) {
        return new StringBuilder().append("## ").append(title).append(": `").append(command).append("`\n\n")
                .append("Measured ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(" on ")
                .append(Machine.describe()).append(" (").append(plan.name()).append(" plan). ");
    }

    private static String orNever(OptionalDouble value) {
        return value.isPresent() ? f1(value.getAsDouble()) : "never";
    }

    static double efficiency(List<ScalingBenchmark.Throughput> scaling, ScalingBenchmark.Throughput t) {
        ScalingBenchmark.Throughput one = scaling.get(0);
        return t.perSecond() / (t.workers() * one.perSecond() / one.workers());
    }

    private static LatencyBenchmark.Level level(Results r, LatencyBenchmark.Path path, int concurrency) {
        return level(r.latency(), path, concurrency);
    }

    private static LatencyBenchmark.Level level(LatencyBenchmark.Results latency, LatencyBenchmark.Path path,
            int concurrency) {
        return latency.levels().stream().filter(l -> l.path() == path && l.concurrency() == concurrency).findFirst()
                .orElseThrow();
    }

    private static String image(Results r, String name, Path reportDir) {
        return "![" + name + "](" + reportDir.relativize(r.charts().get(name)) + ")";
    }

    private static double ms(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / 1000.0;
    }

    private static String ratio(double numerator, double denominator) {
        return String.format(Locale.ROOT, "%.1f×", numerator / denominator);
    }

    private static String times(double value) {
        return String.format(Locale.ROOT, "%.2f×", value);
    }

    private static String f1(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }

    private static String pct(double value) {
        return String.format(Locale.ROOT, "%.0f%%", value * 100);
    }
}
