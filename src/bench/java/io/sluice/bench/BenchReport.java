package io.sluice.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The bench's summary: the results table, CPU split, targets, and machine facts, as plain text or Markdown. */
final class BenchReport {
    static final double TARGET_RATIO = 0.6;
    static final double TARGET_TRACK_RPS = 15_000;

    private final List<PhaseResult> phases;
    private final String command;

    BenchReport(List<PhaseResult> phases, String command) {
        this.phases = phases;
        this.command = command;
    }

    /** Markdown tables; the console shows the same text (it reads fine as plain text). */
    String render() {
        StringBuilder out = new StringBuilder();
        out.append("Command: `").append(command).append("`\n\n");
        out.append("Machine: ").append(machine()).append("\n\n");
        out.append(
                "| phase | clients | requests/s | events/s | events per CPU-core-s | p50 ms | p99 ms | max ms | non-200 | errors | heap peak MB | GCs (ms) |\n");
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for (PhaseResult p : phases) {
            out.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %s | %s | %s | %.1f | %.1f | %.1f | %s | %d | %d | %d (%d) |%n",
                    p.name(),
                    p.clients(),
                    p.name().startsWith("raw") ? "-" : num(p.requestsPerSecond()),
                    num(p.eventsPerSecond()),
                    num(p.eventsPerCoreSecond()),
                    p.latencyMillis(50),
                    p.latencyMillis(99),
                    p.maxLatencyMillis(),
                    non200(p),
                    p.errors() + p.unfinished(),
                    p.usage().heapPeakBytes() >> 20,
                    p.usage().gcCount(),
                    p.usage().gcMillis()));
        }
        out.append("\nCPU by thread group, in cores (of ")
                .append(Runtime.getRuntime().availableProcessors())
                .append("):\n\n| phase |");
        ResourceMonitor.GROUPS.forEach(g -> out.append(' ').append(g).append(" |"));
        out.append(" whole process | other processes |\n|---|")
                .append("--:|".repeat(ResourceMonitor.GROUPS.size() + 2))
                .append('\n');
        for (PhaseResult p : phases) {
            out.append("| ").append(p.name()).append(" |");
            ResourceMonitor.GROUPS.forEach(g -> out.append(
                    String.format(Locale.ROOT, " %.2f |", p.usage().cores().get(g))));
            out.append(String.format(
                    Locale.ROOT,
                    " %.2f | %.2f |%n",
                    p.usage().processCores(),
                    p.usage().otherProcessCores()));
        }
        out.append('\n').append(targets());
        for (PhaseResult p : phases) {
            if (p.usage().otherProcessCores() > 0.1) {
                out.append(String.format(
                        Locale.ROOT,
                        "- WARNING: other processes used %.2f cores during '%s'; its figures are disturbed.%n",
                        p.usage().otherProcessCores(),
                        p.name()));
            }
        }
        return out.toString();
    }

    /** The busiest threads of each phase (digits folded to #), for finding where the time goes. */
    String topThreads() {
        StringBuilder out = new StringBuilder();
        for (PhaseResult p : phases) {
            out.append("Busiest threads, ").append(p.name()).append(" (cores):\n");
            p.usage()
                    .topThreads()
                    .forEach((name, cores) -> out.append(String.format(Locale.ROOT, "  %5.2f  %s%n", cores, name)));
        }
        return out.toString();
    }

    String targets() {
        PhaseResult raw = find("raw");
        PhaseResult batch = find("batch");
        PhaseResult track = find("track");
        StringBuilder out = new StringBuilder();
        if (raw != null && batch != null) {
            double ratio = batch.eventsPerSecond() / raw.eventsPerSecond();
            out.append(String.format(
                    Locale.ROOT,
                    "- Ratio batch/raw events/s: **%.2f** (target >= %.1f): %s%n",
                    ratio,
                    TARGET_RATIO,
                    ratio >= TARGET_RATIO ? "met" : "MISSED"));
            out.append(String.format(
                    Locale.ROOT,
                    "- Same ratio per CPU-core-second used (robust to other load on the machine): %.2f%n",
                    batch.eventsPerCoreSecond() / raw.eventsPerCoreSecond()));
        }
        if (track != null) {
            out.append(String.format(
                    Locale.ROOT,
                    "- Single-event /v1/track: **%s requests/s** (target >= %s): %s%n",
                    num(track.requestsPerSecond()),
                    num(TARGET_TRACK_RPS),
                    track.requestsPerSecond() >= TARGET_TRACK_RPS ? "met" : "MISSED"));
        }
        return out.toString();
    }

    private PhaseResult find(String key) {
        return phases.stream().filter(p -> p.name().contains(key)).findFirst().orElse(null);
    }

    private static String non200(PhaseResult p) {
        if (p.non200().isEmpty()) return "0";
        return p.non200Total() + " ("
                + p.non200().entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue())
                        .collect(Collectors.joining(", "))
                + ")";
    }

    static String num(double value) {
        return String.format(Locale.ROOT, "%,.0f", value);
    }

    /** nproc, CPU model, memory, OS, JDK, heap limit, collectors, JVM options. */
    static String machine() {
        var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(GarbageCollectorMXBean::getName)
                .collect(Collectors.joining(", "));
        List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        return String.format(
                Locale.ROOT,
                "%d CPUs (%s), %d MB RAM, %s %s; %s %s; max heap %d MB; GC %s; JVM options: %s",
                Runtime.getRuntime().availableProcessors(),
                cpuModel(),
                os.getTotalMemorySize() >> 20,
                System.getProperty("os.name"),
                System.getProperty("os.version"),
                System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"),
                Runtime.getRuntime().maxMemory() >> 20,
                gcs,
                jvmArgs.isEmpty() ? "(none)" : String.join(" ", jvmArgs));
    }

    private static String cpuModel() {
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElse("unknown model");
        } catch (Exception e) {
            return "unknown model";
        }
    }
}
