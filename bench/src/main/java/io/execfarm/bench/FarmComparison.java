package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
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

    /** Brings up, afresh and warmed up, a farm of {@code workers} workers with one setting. */
    @FunctionalInterface
    interface FarmStart<S> {
        void up(S setup) throws Exception;
    }

    /**
     * {@code plan}'s load on a farm of each of {@code setups}, round after round ({@code plan.tracingRounds()}):
     * each farm started afresh by {@code start}, its progress told as {@code name} and what
     * {@code describe} says of its setting. Leaves the farm down.
     */
    static <S> FarmComparison<S> inTurns(LocalFarm farm, Plan plan, Progress progress, String name, int workers,
            List<S> setups, Function<S, String> describe, FarmStart<S> start) throws Exception {
        List<Measurement<S>> measurements = new ArrayList<>();
        for (int round = 1; round <= plan.tracingRounds(); round++) {
            for (S setup : setups) {
                progress.say(name + ", round " + round + " of " + plan.tracingRounds() + ": a farm of " + workers
                        + " workers" + describe.apply(setup));
                farm.down();
                start.up(setup);
                measurements.add(new Measurement<>(setup, HttpLoad.measure(farm, plan, progress)));
            }
        }
        farm.down();
        return new FarmComparison<>(workers, plan.highestConcurrency(), measurements);
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
