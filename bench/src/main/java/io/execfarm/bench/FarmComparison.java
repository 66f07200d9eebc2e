package io.execfarm.bench;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The same HTTP load ({@link HttpLoad}) on farms that differ in one setting, taken in turns so a
 * noisy machine's drift falls on each: what the cost benchmarks (security, cluster) report.
 *
 * @param workers      the farms' workers
 * @param top          the load's highest concurrency
 * @param measurements every farm's measurement, in the order taken
 * @param <S>          the setting compared
 */
record FarmComparison<S>(int workers, int top, List<Measurement<S>> measurements) {

    /** One farm's measurement, with its setting. */
    record Measurement<S>(S setup, HttpLoad load) {
    }

    /** A figure of {@code setup}'s farms over the same of {@code base}'s, medians of the rounds. */
    double ratio(S setup, S base, ToDoubleFunction<HttpLoad> figure) {
        return median(setup, figure) / median(base, figure);
    }

    double median(S setup, ToDoubleFunction<HttpLoad> figure) {
        return HttpLoad.median(measurements.stream().filter(m -> m.setup().equals(setup))
                .map(m -> figure.applyAsDouble(m.load())).toList());
    }
}
