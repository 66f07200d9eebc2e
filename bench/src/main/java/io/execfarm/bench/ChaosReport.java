package io.execfarm.bench;

import io.execfarm.contracts.Result;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;

/**
 * What the clients of a {@code ./farm chaos} run saw, per fault: the requests sent from the fault
 * until the next one, how many were answered, lost or answered twice, the sessions found without
 * their state, the longest the clients went without any answer from the fault on (the stall), and
 * the p99 latency during the fault's first 30 s and after.
 */
final class ChaosReport {

    private static final long DURING_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final long start;
    private final long runNanos;
    private final List<ChaosRun.Fault> faults;
    private final Collection<ChaosTraffic.Sent> sent;
    private final List<ChaosTraffic.SessionLoss> sessionLosses;
    private final long garbled;

    ChaosReport(long start, long runNanos, List<ChaosRun.Fault> faults, Collection<ChaosTraffic.Sent> sent,
            List<ChaosTraffic.SessionLoss> sessionLosses, long garbled) {
        this.garbled = garbled;
        this.start = start;
        this.runNanos = runNanos;
        this.faults = faults;
        this.sent = sent;
        this.sessionLosses = sessionLosses;
    }

    long lost() {
        return sent.stream().filter(s -> s.results.isEmpty()).count();
    }

    long duplicated() {
        return sent.stream().filter(s -> s.results.size() > 1).count();
    }

    /** Requests answered with anything but ok: the load's code never fails, so each is the farm's failure. */
    long failed() {
        return sent.stream().filter(s -> !s.results.isEmpty() && s.results.get(0).status() != Result.Status.OK).count();
    }

    boolean faultsFailed() {
        return faults.stream().anyMatch(f -> f.error() != null);
    }

    boolean passed() {
        return lost() == 0 && duplicated() == 0 && failed() == 0 && sessionLosses.isEmpty() && !faultsFailed();
    }

    String verdict() {
        return String.format(Locale.ROOT, "%d lost, %d answered twice, %d answered with an error, %d sessions lost, "
                + "across %d faults%s", lost(), duplicated(), failed(), sessionLosses.size(), faults.size(),
                faultsFailed() ? " (some faults failed)" : "");
    }

    String render(Instant startedAt, long seed, int workers, int clients, boolean cluster, String command) {
        StringBuilder md = new StringBuilder();
        md.append(cluster ? "## Faults on a cluster: `./farm chaos --cluster`\n\n"
                : "## Faults under load: `./farm chaos`\n\n");
        md.append(String.format(Locale.ROOT, "Measured %s by `%s`: %s%d workers (Python), %d closed-loop clients through "
                        + "one Java client (`client/`; every third in a session of its own, checking that the session "
                        + "kept its state, the others that their output came whole, in order and once), %.1f minutes, %d faults. A request counts as lost when no result came within %d "
                        + "minutes, as answered twice when two results came, as answered with an error when its result "
                        + "was not ok (the load's code never fails).%n%n",
                startedAt.truncatedTo(ChronoUnit.SECONDS), command,
                cluster ? "three Kafka brokers (topics replicated three times, two in sync), a Redis Cluster of three "
                        + "masters with a replica each, " : "one broker, one Redis, ",
                workers, clients, runNanos / 60e9, faults.size(),
                ChaosTraffic.ANSWER_WITHIN.toMinutes()));
        md.append("**").append(passed() ? "Passed" : "FAILED").append(":** ").append(verdict()).append(String.format(
                Locale.ROOT, ". The longest the clients went without an answer after a fault: %.1f s.%n%n",
                ChaosRun.seconds(longestStall())));
        md.append("| # | at s | fault | took s | sent | answered | lost | answered twice | answered with an error | "
                + "sessions lost | stalled s | p99 ms, first 30 s | p99 ms, after |\n");
        md.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        long firstFault = faults.isEmpty() ? start + runNanos : faults.get(0).startNanos();
        md.append(row("0", "", "none (before the first fault)", "", start, firstFault, t -> true, t -> false));
        for (int i = 0; i < faults.size(); i++) {
            ChaosRun.Fault fault = faults.get(i);
            long from = fault.startNanos();
            long to = i + 1 < faults.size() ? faults.get(i + 1).startNanos() : start + runNanos;
            String what = fault.kind().description + (fault.target().isEmpty() ? "" : ": " + fault.target())
                    + (fault.error() != null ? " **(failed: " + fault.error() + ")**" : "");
            md.append(row(Integer.toString(i + 1), f0(ChaosRun.seconds(from - start)), what,
                    String.format(Locale.ROOT, "%.1f", ChaosRun.seconds(fault.endNanos() - from)), from, to,
                    t -> t < from + DURING_NANOS, t -> t >= from + DURING_NANOS));
        }
        md.append(String.format(Locale.ROOT, "| | | **all** | | %d | %d | %d | %d | %d | %d | | | |%n", sent.size(),
                sent.size() - lost(), lost(), duplicated(), failed(), sessionLosses.size()));
        md.append("\nResults by status: ").append(statuses()).append(". Stateless requests answered ok whose output "
                + "the client did not pass on whole, in order and once: ").append(garbled).append(".\n");
        sent.stream().filter(s -> s.results.size() > 1).limit(5).forEach(s -> md.append("\n- answered twice: ").append(s.id)
                .append(": ").append(s.results.stream().map(r -> "worker " + r.workerId() + ", attempt " + r.attempt())
                        .toList()));
        if (!sessionLosses.isEmpty()) {
            md.append("\nSessions found without their state:\n\n");
            sessionLosses.forEach(loss -> md.append(String.format(Locale.ROOT, "- at %.0f s, %s: %s%n",
                    ChaosRun.seconds(loss.atNanos() - start), loss.session(), loss.seen())));
        }
        List<String> lostIds = sent.stream().filter(s -> s.results.isEmpty()).map(s -> s.id).limit(10).toList();
        if (!lostIds.isEmpty()) {
            md.append("\nLost requests (first ten): ").append(String.join(", ", lostIds)).append(".\n");
        }
        md.append(String.format(Locale.ROOT, "%nSeed %d reproduces the fault schedule (not the machine's timing).%n", seed));
        return md.toString();
    }

    private String row(String number, String at, String what, String took, long from, long to, LongPredicate during,
            LongPredicate after) {
        List<ChaosTraffic.Sent> window = sent.stream().filter(s -> s.sentNanos >= from && s.sentNanos < to).toList();
        long lost = window.stream().filter(s -> s.results.isEmpty()).count();
        long twice = window.stream().filter(s -> s.results.size() > 1).count();
        long failed = window.stream().filter(s -> !s.results.isEmpty()
                && s.results.get(0).status() != Result.Status.OK).count();
        long sessions = sessionLosses.stream().filter(l -> l.atNanos() >= from && l.atNanos() < to).count();
        return String.format(Locale.ROOT, "| %s | %s | %s | %s | %d | %d | %d | %d | %d | %d | %s | %s | %s |%n", number, at,
                what, took, window.size(), window.size() - lost, lost, twice, failed, sessions,
                String.format(Locale.ROOT, "%.1f", ChaosRun.seconds(stall(from, to))), p99(window, during),
                p99(window, after));
    }

    /**
     * The longest time from {@code from} until {@code to} in which no answer arrived, counting from
     * {@code from} itself: the clients wait in a closed loop, so a farm that stops answering shows
     * as a gap, however few requests were sent in it.
     */
    long stall(long from, long to) {
        long longest = 0;
        long previous = from;
        List<Long> answers = sent.stream().filter(s -> !s.results.isEmpty()).map(s -> s.answeredNanos)
                .filter(t -> t >= from && t < to).sorted().toList();
        for (long answered : answers) {
            longest = Math.max(longest, answered - previous);
            previous = answered;
        }
        return Math.max(longest, answers.isEmpty() ? to - from : 0);
    }

    /** The longest stall after any fault. */
    long longestStall() {
        long longest = 0;
        for (int i = 0; i < faults.size(); i++) {
            long to = i + 1 < faults.size() ? faults.get(i + 1).startNanos() : start + runNanos;
            longest = Math.max(longest, stall(faults.get(i).startNanos(), to));
        }
        return longest;
    }

    private static String p99(List<ChaosTraffic.Sent> window, LongPredicate sentWhen) {
        List<Long> latencies = new ArrayList<>();
        window.stream().filter(s -> !s.results.isEmpty() && sentWhen.test(s.sentNanos))
                .forEach(s -> latencies.add(s.latencyMillis()));
        if (latencies.isEmpty()) {
            return "";
        }
        latencies.sort(null);
        return Long.toString(latencies.get((int) Math.min(latencies.size() - 1, Math.ceil(latencies.size() * 0.99) - 1)));
    }

    private String statuses() {
        Map<String, Integer> counts = new TreeMap<>();
        for (ChaosTraffic.Sent request : sent) {
            for (Result result : request.results) {
                String status = result.status().wireName();
                counts.merge(result.error() == null ? status : status + " (" + result.error().type() + ")", 1,
                        Integer::sum);
            }
        }
        List<String> parts = new ArrayList<>();
        counts.forEach((status, count) -> parts.add(count + " " + status));
        return String.join(", ", parts);
    }

    private static String f0(double value) {
        return String.format(Locale.ROOT, "%.0f", value);
    }
}
