package io.sluice.function;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Configs with functions written to a temporary directory, and sample events. */
final class FunctionFixtures {
    static final ObjectMapper JSON = new ObjectMapper();

    private FunctionFixtures() {}

    /** A config file in {@code dir} whose syncs (YAML list items, indented by 2) and functions section are given. */
    static SluiceConfig config(Path dir, String syncs, String functions) {
        try {
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, """
                    sources:
                      - id: web
                        writeKey: wk_1
                    destinations:
                      - id: warehouse
                        type: postgres
                      - id: other
                        type: postgres
                    syncs:
                    %s
                    functions:
                    %s
                    """.formatted(
                            syncs.stripTrailing(), functions.isBlank() ? "  timeout: 1s" : functions.stripTrailing()));
            return new ConfigLoader(Map.of()).load(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectNode event(String messageId) {
        try {
            return (ObjectNode) JSON.readTree("""
                    {"type":"track","event":"Order Completed","messageId":"%s","userId":"u-1",
                     "timestamp":"2025-01-01T00:00:00Z","receivedAt":"2025-01-01T00:00:01Z",
                     "properties":{"revenue":12.5,"currency":"EUR","items":3},
                     "context":{"ip":"192.0.2.1","library":{"name":"analytics.js","version":"2.0"}}}
                    """.formatted(messageId));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
