package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command runs the same configuration step: a file that {@code sluice config} refuses is refused by
 * {@code start} and each role the same way (exit 2, one message naming the key), before anything starts — including
 * settings only a destination type can judge.
 */
class ConfigStepTest {

    @Test
    void everyCommandRefusesABadDestinationSettingWithTheSameMessage(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, """
                sources: [{id: web, writeKey: wk_web_test_0123456789}]
                destinations: [{id: mirror, type: kafka, bootstrapServers: "127.0.0.1:1", topic: out, producer: {acks: "1"}}]
                syncs: [{id: web-to-mirror, source: web, destination: mirror}]
                """);
        String expected = "destination 'mirror' producer.acks";
        for (List<String> command : List.of(
                List.of("config"),
                List.of("start"),
                List.of("collector"),
                List.of("planner"),
                List.of("worker"),
                List.of("dlq", "list"),
                List.of("db", "status"))) {
            Result result = run(command, file);
            assertThat(result.code).as("%s: %s", command, result.err).isEqualTo(2);
            assertThat(result.err).as(command.toString()).contains(expected).contains("fixed by Sluice");
            assertThat(result.err.lines().count())
                    .as(command + " prints one message")
                    .isEqualTo(1);
        }
    }

    @Test
    void everyCommandRefusesContradictingKeysInOneLineNamingTheKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, """
                sources: [{id: web, writeKey: wk_web_test_0123456789}]
                worker: {leaseDuration: 6s, heartbeatInterval: 5s}
                """);
        for (List<String> command : List.of(
                List.of("config"),
                List.of("start"),
                List.of("collector"),
                List.of("planner"),
                List.of("worker"),
                List.of("dlq", "list"),
                List.of("db", "status"))) {
            Result result = run(command, file);
            assertThat(result.code).as("%s: %s", command, result.err).isEqualTo(2);
            assertThat(result.err)
                    .as(command.toString())
                    .startsWith("Invalid configuration: worker.heartbeatInterval: ")
                    .contains("worker.leaseDuration");
            assertThat(result.err.lines().count())
                    .as(command + " prints one line")
                    .isEqualTo(1);
        }
    }

    private record Result(int code, String err) {}

    private static Result run(List<String> command, Path file) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            String[] args = new String[command.size() + 2];
            for (int i = 0; i < command.size(); i++) args[i] = command.get(i);
            args[command.size()] = "--config";
            args[command.size() + 1] = file.toString();
            code = SluiceCli.run(args);
        } finally {
            System.setErr(original);
        }
        return new Result(code, captured.toString(StandardCharsets.UTF_8));
    }
}
