package io.sluice.cli;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.embedded.FreePort;
import io.sluice.support.Http;
import io.sluice.support.TopicReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./sluice start} as a user runs it: through the launcher script, as its own process, on embedded Kafka and
 * PostgreSQL. It comes up, accepts the README's event, stops in order within 10 s on SIGTERM, and keeps its data
 * across a restart. A bad config stops it with one message naming the key.
 */
class SluiceStartIT {
    private static final Path LAUNCHER = Path.of("sluice").toAbsolutePath();

    @TempDir
    Path workDir;

    @Test
    void startAcceptsAnEventStopsCleanlyAndKeepsDataAcrossRestart() throws Exception {
        int collectorPort = FreePort.find();
        int adminPort = FreePort.find();
        int kafkaPort = FreePort.find();
        int postgresPort = FreePort.find();
        Map<String, String> env = Map.of(
                "SLUICE_DATADIR", workDir.resolve("data").toString(),
                "SLUICE_COLLECTOR_PORT", String.valueOf(collectorPort),
                "SLUICE_ADMIN_PORT", String.valueOf(adminPort),
                "SLUICE_KAFKA_EMBEDDEDPORT", String.valueOf(kafkaPort),
                "SLUICE_POSTGRES_EMBEDDEDPORT", String.valueOf(postgresPort));
        String collector = "http://localhost:" + collectorPort;
        String id = UUID.randomUUID().toString();

        Running first = launch(env, "start");
        try {
            assertThat(first.output())
                    .contains(
                            "Collector URL:     " + collector,
                            "Console:           http://localhost:" + adminPort + "/",
                            "Admin URL:         http://localhost:" + adminPort,
                            "Kafka bootstrap:   127.0.0.1:" + kafkaPort,
                            "jdbc:postgresql://127.0.0.1:" + postgresPort + "/sluice",
                            "write key: wk_web_example");
            var response = post(
                    collector + "/v1/track",
                    """
                    {"userId":"readme-user","event":"Signed Up","messageId":"%s","properties":{"plan":"pro"}}""".formatted(id),
                    "Authorization",
                    basic("wk_web_example"),
                    "Content-Type",
                    "application/json");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(Http.get("http://localhost:" + adminPort + "/ready").statusCode())
                    .isEqualTo(200);
            assertThat(eventIds(kafkaPort)).contains(id);
            try (var db = DriverManager.getConnection(
                            "jdbc:postgresql://127.0.0.1:" + postgresPort + "/sluice", "sluice", "");
                    var rs = db.createStatement().executeQuery("SELECT id FROM sources")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("web");
            }
        } finally {
            first.stopWithin(Duration.ofSeconds(10));
        }
        assertThat(first.output()).contains("Sluice stopped.");

        Running second = launch(env, "start");
        try {
            assertThat(eventIds(kafkaPort)).as("Kafka data survives a restart").contains(id);
        } finally {
            second.stopWithin(Duration.ofSeconds(10));
        }
    }

    @Test
    void badConfigurationStopsStartupNamingTheKey() throws Exception {
        Path config = workDir.resolve("bad.yaml");
        Files.writeString(config, "kafka:\n  partitions: lots\nsources:\n  - {id: web, writeKey: k}\n");
        Process process = new ProcessBuilder(LAUNCHER.toString(), "start", "--config", config.toString())
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(output).contains("Invalid configuration: kafka.partitions: must be an integer, got 'lots'");
    }

    private static List<String> eventIds(int kafkaPort) {
        return TopicReader.readEvents("127.0.0.1:" + kafkaPort, "sluice.events", 1).stream()
                .map(e -> e.get("messageId").asText())
                .toList();
    }

    private Running launch(Map<String, String> env, String... args) throws Exception {
        Path log = Files.createTempFile(workDir, "sluice-", ".log");
        ProcessBuilder builder = new ProcessBuilder(concat(LAUNCHER.toString(), args))
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        Running running = new Running(builder.start(), log);
        await().atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> running.output().contains("Press Ctrl-C to stop.")
                        || !running.process().isAlive());
        assertThat(running.process().isAlive())
                .as("sluice start is running:\n" + running.output())
                .isTrue();
        return running;
    }

    private static String[] concat(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private record Running(Process process, Path log) {
        String output() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** SIGTERM, as Ctrl-C or `kill PID` would send, and the process must be gone within the limit. */
        void stopWithin(Duration limit) throws InterruptedException {
            process.destroy();
            boolean exited = process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
            if (!exited) process.destroyForcibly().waitFor();
            assertThat(exited).as("stopped within " + limit + ":\n" + output()).isTrue();
        }
    }
}
