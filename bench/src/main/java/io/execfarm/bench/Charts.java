package io.execfarm.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's charts, drawn with XChart and written as PNG files. */
final class Charts {

    private static final int WIDTH = 900;
    private static final int HEIGHT = 520;

    private final Path dir;

    Charts(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    /**
     * Each level's latency distribution as a cumulative curve: the share of requests finished
     * within x milliseconds, on a logarithmic x axis so the tail stays readable.
     */
    Path latency(List<LatencyBenchmark.Level> levels) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("End-to-end latency of 1 + 1 (client send to result received)")
                .xAxisTitle("latency, ms (log scale)").yAxisTitle("requests finished within it, %").build();
        chart.getStyler().setXAxisLogarithmic(true).setLegendPosition(Styler.LegendPosition.InsideSE)
                .setMarkerSize(0).setChartBackgroundColor(Color.WHITE);
        for (LatencyBenchmark.Level level : levels) {
            double[] millis = level.run().replies().stream().mapToDouble(r -> r.latencyMicros() / 1000.0).sorted()
                    .toArray();
            double[] percent = IntStream.range(0, millis.length).mapToDouble(i -> 100.0 * (i + 1) / millis.length)
                    .toArray();
            XYSeries series = chart.addSeries(level.label(), millis, percent);
            series.setMarker(SeriesMarkers.NONE);
            if (level.path() == LatencyBenchmark.Path.HTTP) {
                series.setLineStyle(SeriesLines.DASH_DASH);
            }
        }
        return save(chart, "latency");
    }

    /** Throughput against workers, beside perfect scaling from one worker. */
    Path scaling(List<ScalingBenchmark.Throughput> runs) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Throughput of 100 ms sleep jobs against workers in one consumer group")
                .xAxisTitle("workers (3 Python processes each)").yAxisTitle("jobs per second").build();
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW).setChartBackgroundColor(Color.WHITE);
        double[] workers = runs.stream().mapToDouble(ScalingBenchmark.Throughput::workers).toArray();
        double one = runs.get(0).perSecond() / runs.get(0).workers();
        chart.addSeries("measured", workers, runs.stream().mapToDouble(ScalingBenchmark.Throughput::perSecond).toArray());
        XYSeries ideal = chart.addSeries("perfect scaling (N × one worker)", workers,
                Arrays.stream(workers).map(n -> n * one).toArray());
        ideal.setLineStyle(SeriesLines.DASH_DASH);
        ideal.setMarker(SeriesMarkers.NONE);
        return save(chart, "scaling");
    }

    /** Jobs finished per half second by each worker while a new one joins a backlog. */
    Path takeover(ScalingBenchmark.Takeover takeover) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("A backlog while " + takeover.worker() + " starts (at 0 s; ready at "
                        + String.format("%.1f", takeover.ready()) + " s)")
                .xAxisTitle("seconds since the new worker was started").yAxisTitle("jobs finished per second").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setChartBackgroundColor(Color.WHITE)
                .setMarkerSize(4);
        long bucket = 500_000_000L;
        Map<String, TreeMap<Long, Integer>> perWorker = new TreeMap<>();
        long lastBucket = 0;
        for (Reply r : takeover.replies()) {
            long b = Math.floorDiv(r.receivedNanos() - takeover.startNanos(), bucket);
            lastBucket = Math.max(lastBucket, b);
            perWorker.computeIfAbsent(r.workerId(), w -> new TreeMap<>()).merge(b, 1, Integer::sum);
        }
        long firstBucket = takeover.replies().stream()
                .mapToLong(r -> Math.floorDiv(r.receivedNanos() - takeover.startNanos(), bucket)).min().orElse(0);
        for (Map.Entry<String, TreeMap<Long, Integer>> worker : perWorker.entrySet()) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (long b = firstBucket; b <= lastBucket; b++) {
                x.add(b * 0.5);
                y.add(worker.getValue().getOrDefault(b, 0) * 2.0);
            }
            chart.addSeries(worker.getKey(), x, y);
        }
        return save(chart, "takeover");
    }

    /** The mean of each part of a request's time, stacked, for each path and concurrency. */
    Path breakdown(List<Breakdown> breakdowns) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Where a request's time goes (means, from the result's timings)")
                .xAxisTitle("path and concurrency").yAxisTitle("ms").build();
        chart.getStyler().setStacked(true).setLegendPosition(Styler.LegendPosition.InsideNW)
                .setChartBackgroundColor(Color.WHITE);
        List<String> labels = breakdowns.stream().map(Breakdown::label).toList();
        for (int part = 0; part < Breakdown.PARTS.size(); part++) {
            int index = part;
            chart.addSeries(Breakdown.PARTS.get(part), labels,
                    breakdowns.stream().map(b -> (Number) Math.max(0, b.parts().get(index))).toList());
        }
        return save(chart, "breakdown");
    }

    private Path save(Chart<?, ?> chart, String name) throws IOException {
        Path file = dir.resolve(name + ".png");
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }
}
