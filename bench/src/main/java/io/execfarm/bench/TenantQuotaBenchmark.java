package io.execfarm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.KafkaTenants;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.Job;
import io.execfarm.contracts.Topics;
import io.execfarm.farm.FarmRedis;
import io.execfarm.farm.FarmTenants;
import io.execfarm.localinfra.AppProcess;
import io.execfarm.localinfra.LocalInfra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import redis.clients.jedis.UnifiedJedis;

/**
 * One tenant floods its ingress topic while another sends one request at a time: the steady
 * tenant's latency alone, beside a flood without a quota, and beside floods held to two quotas.
 * End to end through the dispatcher's forwarder, one worker, one broker and Redis on this machine.
 *
 * <p>Usage: {@code bench/run quota [seconds per round]}. Prints a Markdown table.
 */
public final class TenantQuotaBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Each flood record carries this much code: a comment, so the requests the flood gets run cost little. */
    private static final int FLOOD_CODE_BYTES = 4096;
    private static final int FLOOD_PRODUCERS = 2;

    private record Round(String name, KafkaTenants.Quota floodQuota) {
    }

    public static void main(String[] args) throws Exception {
        Duration each = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 30);
        List<Round> rounds = List.of(new Round("alone", null),
                new Round("flood, no quota", new KafkaTenants.Quota(1L << 40, 10_000)),
                new Round("flood, 1 MiB/s and 50% (the default)", KafkaTenants.Quota.DEFAULT),
                new Round("flood, 64 KiB/s and 10%", new KafkaTenants.Quota(64 * 1024, 10)));
        StringBuilder table = new StringBuilder("| round | steady requests | steady p50 ms | steady p99 ms | flood records "
                + "taken by the broker | flood MB/s taken |\n|---|---:|---:|---:|---:|---:|\n");
        try (LocalInfra infra = LocalInfra.startOrReuse();
                AppProcess worker = AppProcess.worker("quota-worker", infra, List.of(
                        "execfarm.worker.runtime.python.pool.size=4", "execfarm.worker.runtime.python.pool.min-idle=4",
                        "quarkus.log.level=WARN"));
                AppProcess dispatcher = AppProcess.dispatcher("quota-dispatcher", infra,
                        Map.of("EXECFARM_API_KEYS", "quota-bench-key:steady"), List.of("quarkus.log.level=WARN"));
                UnifiedJedis redis = FarmRedis.connect(infra.redisUrl(), infra.redisCluster())) {
            FarmTenants tenants = new FarmTenants(infra.kafkaAdmin(), redis);
            KafkaLogin steady = tenants.add("steady", KafkaTenants.Quota.DEFAULT, 4).login();
            try (BenchClient client = new BenchClient(steady, ClientSettings.tenant("steady", steady.clientSettings()))) {
                for (int i = 0; i < 50; i++) {
                    call(client);
                }
                for (Round round : rounds) {
                    table.append(run(round, each, tenants, client)).append('\n');
                }
            }
        }
        System.out.print(table);
    }

    private static String run(Round round, Duration each, FarmTenants tenants, BenchClient steady) throws Exception {
        AtomicBoolean flooding = new AtomicBoolean(round.floodQuota() != null);
        AtomicLong floodTaken = new AtomicLong();
        List<Thread> floods = new ArrayList<>();
        String flooder = "flood" + UUID.randomUUID().toString().substring(0, 6);
        if (round.floodQuota() != null) {
            KafkaLogin flood = tenants.add(flooder, round.floodQuota(), 4).login();
            for (int i = 0; i < FLOOD_PRODUCERS; i++) {
                Thread thread = new Thread(() -> flood(flood, flooder, flooding, floodTaken), "flood-" + i);
                thread.start();
                floods.add(thread);
            }
            Thread.sleep(2000);
        }
        Histogram latency = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        long deadline = System.nanoTime() + each.toNanos();
        long started = System.nanoTime();
        while (System.nanoTime() < deadline) {
            long start = System.nanoTime();
            call(steady);
            latency.recordValue((System.nanoTime() - start) / 1000);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        flooding.set(false);
        for (Thread thread : floods) {
            thread.join();
        }
        if (round.floodQuota() != null) {
            if (!tenants.remove(flooder).forwarded()) {
                System.err.println("quota: the forwarder was not past the flood of round '" + round.name()
                        + "' when its topics went");
            }
            call(steady);
        }
        return String.format("| %s | %d | %.1f | %.1f | %d | %.2f |", round.name(), latency.getTotalCount(),
                latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(99) / 1000.0, floodTaken.get(),
                floodTaken.get() * (FLOOD_CODE_BYTES + 200) / seconds / 1e6);
    }

    private static void call(BenchClient client) throws Exception {
        client.call(Job.of("python", "1"));
    }

    /** Sends requests as fast as the broker takes them, never waiting for a result. */
    private static void flood(KafkaLogin login, String tenant, AtomicBoolean flooding, AtomicLong taken) {
        Properties settings = new Properties();
        settings.putAll(login.clientSettings());
        settings.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        String padding = "#" + "x".repeat(FLOOD_CODE_BYTES - 4) + "\n1";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(settings, new StringSerializer(), new StringSerializer())) {
            while (flooding.get()) {
                String id = UUID.randomUUID().toString();
                String request = JSON.createObjectNode().put("v", 1).put("id", id).put("runtime", "python")
                        .put("code", padding).put("replyTo", Topics.tenantReplies(tenant)).toString();
                producer.send(new ProducerRecord<>(Topics.ingress(tenant), id, request), (metadata, failure) -> {
                    if (failure == null) {
                        taken.incrementAndGet();
                    }
                });
            }
        }
    }
}
