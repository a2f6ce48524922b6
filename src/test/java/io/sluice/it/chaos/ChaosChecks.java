package io.sluice.it.chaos;

import io.sluice.support.TopicReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Where acknowledged events are looked for: the events topic, the warehouse, counting sinks. */
final class ChaosChecks {
    private ChaosChecks() {}

    /** Every messageId on the topic (read from the beginning with a fresh consumer). */
    static Set<String> messageIds(String bootstrapServers, String topic, int atLeast) {
        return new HashSet<>(messageIdCounts(bootstrapServers, topic, atLeast).keySet());
    }

    /** messageId -> how many records carry it (more than 1: a duplicate downstream would see). */
    static Map<String, Integer> messageIdCounts(String bootstrapServers, String topic, int atLeast) {
        Map<String, Integer> counts = new HashMap<>();
        for (var record : TopicReader.read(bootstrapServers, topic, atLeast, Duration.ofSeconds(60))) {
            counts.merge(TopicReader.json(record.value()).path("messageId").asText(), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * Writes every thread of this JVM, virtual ones included, to target/chaos/NAME-threads.txt: what a stuck
     * scenario was waiting on, for the report of a failed run.
     */
    static void dumpThreads(String name) {
        try {
            Path file = Path.of("target", "chaos", name + "-threads.txt").toAbsolutePath();
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(file);
            String jcmd =
                    Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            new ProcessBuilder(
                            jcmd,
                            String.valueOf(ProcessHandle.current().pid()),
                            "Thread.dump_to_file",
                            "-format=text",
                            file.toString())
                    .redirectErrorStream(true)
                    .start()
                    .waitFor(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.out.println("thread dump failed: " + e);
        }
    }

    static Set<String> warehouseIds(String warehouseUrl) {
        Set<String> ids = new HashSet<>();
        try (Connection c = DriverManager.getConnection(warehouseUrl, "sluice", "");
                var rs = c.createStatement().executeQuery("SELECT id FROM web.tracks")) {
            while (rs.next()) ids.add(rs.getString(1));
        } catch (Exception e) {
            // the table appears with the first delivered batch
        }
        return ids;
    }
}
