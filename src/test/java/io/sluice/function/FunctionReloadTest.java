package io.sluice.function;

import static io.sluice.function.FunctionFixtures.config;
import static io.sluice.function.FunctionFixtures.event;
import static io.sluice.function.FunctionFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FunctionReloadTest {
    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private static String version(String v) {
        return "function transform(event) { event.version = '" + v + "'; return event; }\n";
    }

    private String versionSeen(Functions functions) {
        return functions
                .apply("a", List.of(event("m-1")))
                .output()
                .getFirst()
                .path("version")
                .asText();
    }

    /** Rewrites the file with a visibly newer mtime, as an editor or a deploy would. */
    private static void rewrite(Path file, String text, int second) throws Exception {
        write(file, text);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(second)));
    }

    @Test
    void aChangedFileIsPickedUpAndABrokenOneKeepsThePreviousVersion() throws Exception {
        Path file = dir.resolve("fn.js");
        write(file, version("v1"));
        try (Functions functions = new Functions(
                config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                    function: fn.js
                """, "  reloadInterval: 200ms\n  poolSize: 2"), registry, Clock.systemUTC())) {
            functions.start();
            assertThat(versionSeen(functions)).isEqualTo("v1");

            rewrite(file, version("v2"), 1);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> versionSeen(functions).equals("v2"));

            rewrite(file, "function transform(event) {\n  return event.;\n}\n", 2);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> registry.get("sluice.function.reloads")
                                    .tag("outcome", "rejected")
                                    .counter()
                                    .count()
                            == 1);
            assertThat(versionSeen(functions)).isEqualTo("v2");

            rewrite(file, version("v3"), 3);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> versionSeen(functions).equals("v3"));
            assertThat(registry.get("sluice.function.reloads")
                            .tag("outcome", "applied")
                            .counter()
                            .count())
                    .isEqualTo(2);

            Files.delete(file);
            functions.reload();
            assertThat(versionSeen(functions)).isEqualTo("v3");
        }
    }

    @Test
    void aBatchInFlightFinishesOnTheVersionItStartedWith() throws Exception {
        Path file = dir.resolve("fn.js");
        write(file, version("v1"));
        try (Functions functions =
                new Functions(config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                    function: fn.js
                """, "  reloadInterval: 1h"), registry, Clock.systemUTC())) {
            functions.start();
            rewrite(file, version("v2"), 1);
            functions.reload(); // explicit check, as `sluice reload` would
            assertThat(versionSeen(functions)).isEqualTo("v2");
            assertThat(functions.apply("a", List.of(event("m-1"), event("m-2"))).output())
                    .extracting(e -> e.path("version").asText())
                    .containsExactly("v2", "v2");
        }
    }
}
