package io.sluice.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The summary of {@code bench wrk}: every measured arm, then the ratio and the targets. */
final class WrkReport {
    static final double TARGET_RATIO = 0.6;
    static final double TARGET_TRACK = 25_000;

    private WrkReport() {}

    static String render(WrkRun.Options o, List<WrkRun.Arm> arms, String loadBefore) {
        StringBuilder out = new StringBuilder();
        out.append("Command: `").append(o.command()).append("`\n\n");
        out.append("Date: ")
                .append(WrkRun.today())
                .append("; load average before the run: ")
                .append(loadBefore)
                .append(", after: ")
                .append(CurveReport.loadAverage())
                .append("\n\nMachine: ")
                .append(BenchReport.machine())
                .append("\n\n");
        out.append(String.format(
                Locale.ROOT,
                "Collector and embedded Kafka broker in the bench JVM ('Sluice JVM'); load from separate processes: wrk "
                        + "(%d threads; /v1/batch %d connections, one fixed %d-event body; /v1/track %d connections, one "
                        + "fixed event) and a raw kafka-clients producer JVM with the collector's producer settings into the "
                        + "collector's topic. Each arm: %ds warm-up (discarded) + %ds measured; rounds alternate the arms.%n%n",
                o.wrkThreads(),
                o.batchConnections(),
                o.batchSize(),
                o.trackConnections(),
                o.warmup().toSeconds(),
                o.duration().toSeconds()));
        out.append(
                        "| round | arm | events/s | requests/s | errors | p50 ms | p99 ms | Sluice JVM cores | load cores "
                                + "| µs/ev Sluice JVM | µs/ev load | other procs cores | bytes allocated/ev Sluice JVM |\n|--:|---|")
                .append("--:|".repeat(11))
                .append('\n');
        for (WrkRun.Arm a : arms) {
            out.append(String.format(
                    Locale.ROOT,
                    "| %d | %s | %s | %s | %d | %.1f | %.1f | %.2f | %.2f | %.1f | %.1f | %.2f | %s |%n",
                    a.round(),
                    a.arm(),
                    BenchReport.num(a.eventsPerSecond()),
                    Double.isNaN(a.requestsPerSecond()) ? "-" : BenchReport.num(a.requestsPerSecond()),
                    a.errors(),
                    a.p50Millis(),
                    a.p99Millis(),
                    a.sluiceCores(),
                    a.loadCores(),
                    a.eventsPerSecond() > 0 ? a.sluiceCores() * 1e6 / a.eventsPerSecond() : Double.NaN,
                    a.eventsPerSecond() > 0 ? a.loadCores() * 1e6 / a.eventsPerSecond() : Double.NaN,
                    a.otherCores(),
                    BenchReport.num(a.allocatedBytesPerEvent())));
        }
        double batch = mean(arms, "batch", WrkRun.Arm::eventsPerSecond);
        double raw = mean(arms, "raw", WrkRun.Arm::eventsPerSecond);
        double track = mean(arms, "track", WrkRun.Arm::requestsPerSecond);
        out.append('\n');
        if (arms.stream().anyMatch(a -> a.eventsPerSecond() <= 0))
            out.append(
                    "- WARNING: an arm accepted nothing in its window (see the log); its round's ratio is meaningless.\n");
        if (!Double.isNaN(batch) && !Double.isNaN(raw)) {
            StringBuilder perRound = new StringBuilder();
            for (int r = 1; r <= o.rounds(); r++) {
                int round = r;
                double b = mean(
                        arms.stream().filter(a -> a.round() == round).toList(), "batch", WrkRun.Arm::eventsPerSecond);
                double w = mean(
                        arms.stream().filter(a -> a.round() == round).toList(), "raw", WrkRun.Arm::eventsPerSecond);
                perRound.append(perRound.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", b / w));
            }
            out.append(String.format(
                    Locale.ROOT,
                    "- /v1/batch ÷ raw producer, events/s: **%.2f** (mean of the rounds' arms; per round %s; target >= %.1f): %s%n",
                    batch / raw,
                    perRound,
                    TARGET_RATIO,
                    batch / raw >= TARGET_RATIO ? "met" : "MISSED"));
        }
        if (!Double.isNaN(track))
            out.append(String.format(
                    Locale.ROOT,
                    "- /v1/track single events, %d connections: **%s requests/s** (target >= %s): %s%n",
                    o.trackConnections(),
                    BenchReport.num(track),
                    BenchReport.num(TARGET_TRACK),
                    track >= TARGET_TRACK ? "met" : "MISSED"));
        if (arms.stream().anyMatch(a -> a.otherCores() > 0.1))
            out.append(
                    "- WARNING: other processes used more than 0.1 core in some arm; those figures are disturbed.\n");
        return out.toString();
    }

    private static double mean(List<WrkRun.Arm> arms, String arm, ToDoubleFunction<WrkRun.Arm> value) {
        return arms.stream()
                .filter(a -> a.arm().equals(arm))
                .mapToDouble(value)
                .average()
                .orElse(Double.NaN);
    }
}
