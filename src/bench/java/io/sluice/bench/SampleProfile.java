package io.sluice.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * A JFR execution-sample recording over the measured window, for what per-thread CPU time cannot tell: the collector's
 * request handling and the worker's deliveries both run on virtual threads, which share the same carrier threads.
 * Samples are grouped like the threads (virtual ones by their stack: a frame of {@code io.sluice.worker} or
 * {@code io.sluice.destination} means worker, anything else collector), and the carrier threads' CPU is split in
 * proportion. The hottest methods (top frame) per group come along, to show where the time goes.
 */
final class SampleProfile implements AutoCloseable {
    private static final Duration PERIOD = Duration.ofMillis(20);

    /**
     * Samples per group; the virtual-thread samples per group; the hottest top frames per group; and per group the
     * innermost Sluice method on the stack (what Sluice code was running, including the library code it called).
     */
    record Result(
            long samples,
            Map<String, Long> byGroup,
            Map<String, Long> virtualByGroup,
            Map<String, Map<String, Long>> hot,
            Map<String, Map<String, Long>> sluice) {

        /** The share of virtual-thread samples that belong to {@code group} (0 without samples). */
        double virtualShare(String group) {
            long total =
                    virtualByGroup.values().stream().mapToLong(Long::longValue).sum();
            return total == 0 ? 0 : virtualByGroup.getOrDefault(group, 0L) / (double) total;
        }
    }

    private final Recording recording = new Recording();
    private final Function<String, String> threadGroup;

    SampleProfile(Function<String, String> threadGroup) {
        this.threadGroup = threadGroup;
        recording.enable("jdk.ExecutionSample").withPeriod(PERIOD).withStackTrace();
        recording.setToDisk(true);
        recording.setName("sluice-bench-pipeline");
    }

    void start() {
        recording.start();
    }

    /** Stops sampling (at the end of the window); {@link #summarise} reads the samples afterwards. */
    void stopRecording() {
        recording.stop();
    }

    /** Summarises the stopped recording; {@code keep}, if given, receives a copy of the .jfr file. */
    Result summarise(Path keep) throws Exception {
        Path file = Files.createTempFile("sluice-bench", ".jfr");
        try {
            recording.dump(file);
            if (keep != null) Files.copy(file, keep, StandardCopyOption.REPLACE_EXISTING);
            return summarise(RecordingFile.readAllEvents(file));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private Result summarise(List<RecordedEvent> events) {
        Map<String, Long> byGroup = new LinkedHashMap<>();
        Map<String, Long> virtual = new LinkedHashMap<>();
        Map<String, Map<String, Long>> hot = new LinkedHashMap<>();
        Map<String, Map<String, Long>> sluice = new LinkedHashMap<>();
        long samples = 0;
        for (RecordedEvent e : events) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null) continue;
            RecordedThread t = e.getThread("sampledThread");
            if (t == null) continue;
            samples++;
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            String group = t.isVirtual() ? virtualGroup(name(t), frames) : threadGroup.apply(name(t));
            if (t.isVirtual()) virtual.merge(group, 1L, Long::sum);
            byGroup.merge(group, 1L, Long::sum);
            if (!frames.isEmpty()) {
                var m = frames.get(0).getMethod();
                hot.computeIfAbsent(group, g -> new HashMap<>())
                        .merge(m.getType().getName() + "." + m.getName(), 1L, Long::sum);
            }
            String inner = "(no Sluice frame)";
            for (RecordedFrame frame : frames) {
                String type = frame.getMethod().getType().getName();
                if (type.startsWith("io.sluice.")) {
                    inner = type.substring(type.lastIndexOf('.') + 1) + "."
                            + frame.getMethod().getName();
                    break;
                }
            }
            sluice.computeIfAbsent(group, g -> new HashMap<>()).merge(inner, 1L, Long::sum);
        }
        return new Result(samples, byGroup, virtual, hot, sluice);
    }

    private static String virtualGroup(String name, List<RecordedFrame> frames) {
        if (name.startsWith("sluice-delivery") || name.startsWith("sluice-worker")) return "worker";
        for (RecordedFrame f : frames) {
            String type = f.getMethod().getType().getName();
            if (type.startsWith("io.sluice.worker.") || type.startsWith("io.sluice.destination.")) return "worker";
            if (type.startsWith("io.sluice.collector.")) return "collector";
        }
        return "collector"; // Jetty's request handling outside Sluice's frames (parsing, routing, writing the answer)
    }

    private static String name(RecordedThread t) {
        String name = t.getJavaName();
        return name == null ? t.getOSName() == null ? "" : t.getOSName() : name;
    }

    @Override
    public void close() {
        recording.close();
    }
}
