package io.sluice.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Where one phase's CPU and memory went. CPU is per-thread CPU time (ThreadMXBean) grouped by thread name into
 * load generator, HTTP server, the collector's Kafka producer, and broker; what the process used beyond all Java
 * threads is the JVM's own (GC, JIT compiler). Virtual threads run on carrier threads, so their CPU is counted on
 * the carriers. Heap: the peak of used heap sampled every 100 ms, plus GC count and time.
 */
final class ResourceMonitor implements AutoCloseable {
    static final List<String> GROUPS =
            List.of("load generator", "http server", "collector producer", "broker", "jvm (gc, jit)");
    private static final Path PROC_STAT = Path.of("/proc/stat");

    /** What the monitor saw over one window. */
    record Usage(
            double wallSeconds,
            Map<String, Double> cores,
            double processCores,
            double otherProcessCores,
            long heapPeakBytes,
            long gcCount,
            long gcMillis,
            Map<String, Double> topThreads,
            long rssPeakBytes) {}

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final AtomicLong heapPeak = new AtomicLong();
    private final AtomicLong rssPeak = new AtomicLong();
    private final Thread sampler;
    private final List<String> groups;
    private final Function<String, String> grouper;
    private volatile boolean running = true;
    private Map<Long, Long> cpuAtStart;
    private long processCpuAtStart;
    private long machineBusyAtStart;
    private long wallAtStart;
    private long gcCountAtStart;
    private long gcMillisAtStart;

    ResourceMonitor() {
        this(GROUPS, ResourceMonitor::group);
    }

    /** With other thread groups: {@code grouper} maps a thread name to one of {@code groups} (the last is "jvm (gc, jit)"). */
    ResourceMonitor(List<String> groups, Function<String, String> grouper) {
        this.groups = groups;
        this.grouper = grouper;
        sampler = Thread.ofPlatform().daemon().name("bench-monitor").start(() -> {
            while (running) {
                heapPeak.accumulateAndGet(
                        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                rssPeak.accumulateAndGet(rssBytes(), Math::max);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** Starts a measured window. */
    void begin() {
        cpuAtStart = threadCpu();
        processCpuAtStart = os.getProcessCpuTime();
        machineBusyAtStart = machineBusyNanos();
        wallAtStart = System.nanoTime();
        gcCountAtStart = gcCount();
        gcMillisAtStart = gcMillis();
        heapPeak.set(0);
        rssPeak.set(0);
    }

    /** This process's resident set size (VmRSS in /proc/self/status), 0 where unavailable. */
    static long rssBytes() {
        try (var lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(l -> l.startsWith("VmRSS:"))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")) * 1024)
                    .findFirst()
                    .orElse(0);
        } catch (Exception e) {
            return 0;
        }
    }

    /** Ends the window begun by {@link #begin()}. */
    Usage end() {
        double wall = (System.nanoTime() - wallAtStart) / 1e9;
        long processCpu = os.getProcessCpuTime() - processCpuAtStart;
        long machineBusy = machineBusyNanos() - machineBusyAtStart;
        Map<Long, Long> cpuAtEnd = threadCpu();
        Map<String, Double> byGroup = new LinkedHashMap<>();
        groups.forEach(g -> byGroup.put(g, 0.0));
        Map<String, Double> byThread = new HashMap<>();
        long javaThreads = 0;
        for (var e : cpuAtEnd.entrySet()) {
            long used = e.getValue() - cpuAtStart.getOrDefault(e.getKey(), 0L);
            var info = threads.getThreadInfo(e.getKey());
            if (used <= 0 || info == null) continue;
            javaThreads += used;
            byGroup.merge(grouper.apply(info.getThreadName()), used / 1e9 / wall, Double::sum);
            byThread.merge(info.getThreadName().replaceAll("\\d+", "#"), used / 1e9 / wall, Double::sum);
        }
        byGroup.put("jvm (gc, jit)", Math.max(0, processCpu - javaThreads) / 1e9 / wall);
        Map<String, Double> top = new LinkedHashMap<>();
        byThread.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .limit(12)
                .forEach(e -> top.put(e.getKey(), e.getValue()));
        double others = machineBusy < 0 ? Double.NaN : Math.max(0, machineBusy - processCpu) / 1e9 / wall;
        return new Usage(
                wall,
                byGroup,
                processCpu / 1e9 / wall,
                others,
                heapPeak.get(),
                gcCount() - gcCountAtStart,
                gcMillis() - gcMillisAtStart,
                top,
                rssPeak.get());
    }

    /** The thread-name conventions of the bench, Jetty/Javalin, kafka-clients and the Kafka broker. */
    static String group(String name) {
        if (name.startsWith("bench-") || name.contains("sluice-bench-raw")) return "load generator";
        if (name.contains("| sluice-collector")) return "collector producer";
        if (name.startsWith("qtp")
                || name.startsWith("ForkJoinPool")
                || name.startsWith("Javalin")
                || name.startsWith("VirtualThread")
                || name.contains("jetty")) return "http server";
        return "broker"; // the in-process broker and controller, plus the few idle JDK housekeeping threads
    }

    /**
     * CPU time the whole machine spent busy (user, nice, system, irq, softirq, steal), from /proc/stat; -1 where
     * there is none. What exceeds this process's CPU time was used by other processes and disturbs the figures.
     */
    static long machineBusyNanos() {
        try {
            String[] f = Files.readAllLines(PROC_STAT).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) busy += Long.parseLong(f[i]);
            return busy * 10_000_000L; // USER_HZ is 100 on Linux
        } catch (Exception e) {
            return -1;
        }
    }

    private Map<Long, Long> threadCpu() {
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t > 0) cpu.put(id, t);
        }
        return cpu;
    }

    private static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionCount)
                .sum();
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionTime)
                .sum();
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
