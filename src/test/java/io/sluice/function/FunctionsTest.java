package io.sluice.function;

import static io.sluice.function.FunctionFixtures.config;
import static io.sluice.function.FunctionFixtures.event;
import static io.sluice.function.FunctionFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FunctionsTest {
    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private Functions start(String script) {
        write(dir.resolve("fn.js"), script);
        Functions functions =
                new Functions(config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                    function: fn.js
                    settings: {prefix: "x_", lookup: {EUR: 1.1}}
                  - id: plain
                    source: web
                    destination: warehouse
                """, "  timeout: 300ms\n  poolSize: 2"), registry, Clock.systemUTC());
        functions.start();
        return functions;
    }

    private double count(String name) {
        return registry.get(name).tag("sync", "a").counter().count();
    }

    @Test
    void transformsEnrichesAndRenames() {
        try (Functions functions = start("""
                function transform(event, context) {
                  event.properties.total = event.properties.revenue * context.settings.lookup.EUR;
                  delete event.properties.revenue;
                  event.properties.via = context.syncId + '->' + context.destinationId;
                  return event;
                }
                """)) {
            FunctionResult result = functions.apply("a", List.of(event("m-1"), event("m-2")));
            assertThat(result.failures()).isEmpty();
            assertThat(result.output()).hasSize(2);
            ObjectNode first = result.output().getFirst();
            assertThat(first.path("properties").path("total").asDouble()).isCloseTo(13.75, Offset.offset(1e-9));
            assertThat(first.path("properties").has("revenue")).isFalse();
            assertThat(first.path("properties").path("via").asText()).isEqualTo("a->warehouse");
            assertThat(first.path("messageId").asText()).isEqualTo("m-1");
            assertThat(result.output().get(1).path("messageId").asText()).isEqualTo("m-2");
            assertThat(count("sluice.function.invocations")).isEqualTo(2);
            assertThat(registry.get("sluice.function.time")
                            .tag("sync", "a")
                            .timer()
                            .count())
                    .isEqualTo(2);
        }
    }

    @Test
    void syncWithoutFunctionGetsItsInputBackUnchanged() {
        try (Functions functions = start("function transform(e) { return null; }")) {
            List<ObjectNode> events = List.of(event("m-1"));
            FunctionResult result = functions.apply("plain", events);
            assertThat(result.output()).isSameAs(events);
            assertThat(result.failures()).isEmpty();
        }
    }

    @Test
    void fanOutGetsStableDistinctIdsAndDropsAreCounted() {
        try (Functions functions = start("""
                function transform(event) {
                  if (event.messageId === 'drop-me') return undefined;
                  if (event.messageId === 'null-me') return null;
                  return [
                    event,
                    { type: 'track', event: 'Item', properties: { n: 1 } },
                    { ...event, event: 'Copy' },
                    { type: 'track', event: 'Own id', messageId: 'custom' },
                  ];
                }
                """)) {
            FunctionResult result = functions.apply("a", List.of(event("drop-me"), event("m-1"), event("null-me")));
            assertThat(result.failures()).isEmpty();
            assertThat(result.output())
                    .extracting(e -> e.path("messageId").asText())
                    .containsExactly("m-1", "m-1-1", "m-1-2", "custom");
            assertThat(result.output())
                    .extracting(e -> e.path("event").asText())
                    .containsExactly("Order Completed", "Item", "Copy", "Own id");
            assertThat(count("sluice.function.drops")).isEqualTo(2);
            // the same input gives the same ids on a retry
            assertThat(functions.apply("a", List.of(event("m-1"))).output())
                    .extracting(e -> e.path("messageId").asText())
                    .containsExactly("m-1", "m-1-1", "m-1-2", "custom");
        }
    }

    @Test
    void anExceptionFailsOnlyItsEventWithTheMessageAndLine() {
        try (Functions functions = start("""
                function transform(event) {
                  if (event.messageId === 'bad') {
                    return event.properties.missing.deeper;
                  }
                  if (event.messageId === 'thrown') throw new Error('no thanks');
                  return event;
                }
                """)) {
            FunctionResult result =
                    functions.apply("a", List.of(event("m-1"), event("bad"), event("thrown"), event("m-2")));
            assertThat(result.output())
                    .extracting(e -> e.path("messageId").asText())
                    .containsExactly("m-1", "m-2");
            assertThat(result.failures()).hasSize(2);
            assertThat(result.failures().get(0).event().path("messageId").asText())
                    .isEqualTo("bad");
            assertThat(result.failures().get(0).error())
                    .startsWith("TypeError")
                    .contains("deeper")
                    .endsWith("(line 3)");
            assertThat(result.failures().get(1).error()).isEqualTo("Error: no thanks (line 5)");
            assertThat(count("sluice.function.errors")).isEqualTo(2);
        }
    }

    @Test
    void unacceptableReturnValuesAreFailures() {
        try (Functions functions = start("""
                function transform(event) {
                  switch (event.messageId) {
                    case 'number': return 42;
                    case 'string': return 'text';
                    case 'array': return [event, 7];
                    case 'promise': return Promise.resolve(7); // checked once it settles
                    case 'bigint': return { n: 10n };
                    default: return event;
                  }
                }
                """)) {
            FunctionResult result = functions.apply(
                    "a",
                    List.of(
                            event("number"),
                            event("string"),
                            event("array"),
                            event("promise"),
                            event("bigint"),
                            event("ok")));
            assertThat(result.output())
                    .extracting(e -> e.path("messageId").asText())
                    .containsExactly("ok");
            assertThat(result.failures())
                    .extracting(FunctionFailure::error)
                    .containsExactly(
                            "transform must return an object, an array of objects, null or undefined, not a number",
                            "transform must return an object, an array of objects, null or undefined, not a string",
                            "element 1 of the returned array is not an object",
                            "transform must return an object, an array of objects, null or undefined, not a number",
                            "the returned value cannot be converted to JSON: Do not know how to serialize a BigInt");
        }
    }

    @Test
    void aRunawayScriptIsCancelledWithinTheTimeoutAndTheBatchGoesOn() {
        try (Functions functions = start("""
                let calls = 0;
                function transform(event) {
                  calls++;
                  if (event.messageId === 'spin') { while (true) {} }
                  if (event.messageId === 'recurse') { const f = () => f() + 1; return f(); }
                  event.calls = calls;
                  return event;
                }
                """)) {
            FunctionResult result = functions.apply(
                    "a", List.of(event("m-1"), event("spin"), event("m-2"), event("recurse"), event("m-3")));
            assertThat(result.failures())
                    .extracting(f -> f.event().path("messageId").asText())
                    .containsExactly("spin", "recurse");
            assertThat(result.failures().getFirst().error()).isEqualTo("timed out after 300 ms");
            assertThat(result.failures().get(1).error()).contains("RangeError").contains("(line 5)");
            assertThat(result.output())
                    .extracting(e -> e.path("messageId").asText())
                    .containsExactly("m-1", "m-2", "m-3");
            // the cancelled context was discarded: the next event ran in a fresh one (its global state starts over)
            assertThat(result.output().get(1).path("calls").asInt()).isEqualTo(1);
            assertThat(count("sluice.function.timeouts")).isEqualTo(1);

            long begun = System.nanoTime();
            assertThat(functions.apply("a", List.of(event("spin"))).failures())
                    .singleElement()
                    .satisfies(f -> assertThat(f.error()).isEqualTo("timed out after 300 ms"));
            assertThat(System.nanoTime() - begun)
                    .as("cancelled soon after the 300 ms timeout")
                    .isLessThan(2_000_000_000L);
            assertThat(functions.apply("a", List.of(event("m-4"))).output()).hasSize(1);
        }
    }

    @Test
    void settingsAreVisibleAndReadOnly() {
        try (Functions functions = start("""
                function transform(event, context) {
                  context.settings.prefix = 'changed';
                  context.settings.lookup.EUR = 99;
                  context.syncId = 'other';
                  let strictError = null;
                  try { (function () { 'use strict'; context.settings.lookup.USD = 1; })(); } catch (e) { strictError = e.name; }
                  return { prefix: context.settings.prefix, eur: context.settings.lookup.EUR, sync: context.syncId,
                           frozen: Object.isFrozen(context.settings.lookup), strictError };
                }
                """)) {
            ObjectNode out =
                    functions.apply("a", List.of(event("m-1"))).output().getFirst();
            assertThat(out.path("prefix").asText()).isEqualTo("x_");
            assertThat(out.path("eur").asDouble()).isEqualTo(1.1);
            assertThat(out.path("sync").asText()).isEqualTo("a");
            assertThat(out.path("frozen").asBoolean()).isTrue();
            assertThat(out.path("strictError").asText()).isEqualTo("TypeError");
        }
    }

    @Test
    void oneSyncsGlobalStateIsInvisibleToAnother() {
        write(dir.resolve("writer.js"), """
                var shared = 'unset';
                function transform(event) { globalThis.secret = 'from-a'; shared = 'written-by-a'; return event; }
                """);
        write(dir.resolve("reader.js"), """
                function transform(event) {
                  return { secret: typeof secret, shared: typeof shared, viaGlobal: String(globalThis.secret) };
                }
                """);
        SluiceConfig config = config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                    function: writer.js
                  - id: b
                    source: web
                    destination: other
                    function: reader.js
                  - id: c
                    source: web
                    destination: other
                    function: writer.js
                """, "  poolSize: 1");
        try (Functions functions = new Functions(config, registry, Clock.systemUTC())) {
            functions.start();
            functions.apply("a", List.of(event("m-1")));
            ObjectNode seen =
                    functions.apply("b", List.of(event("m-2"))).output().getFirst();
            assertThat(seen.path("secret").asText()).isEqualTo("undefined");
            assertThat(seen.path("shared").asText()).isEqualTo("undefined");
            assertThat(seen.path("viaGlobal").asText()).isEqualTo("undefined");
        }
    }

    @Test
    void aFunctionThatDoesNotCompileStopsStartupNamingTheKeyAndLine() {
        write(dir.resolve("broken.js"), """
                function transform(event) {
                  return event +;
                }
                """);
        SluiceConfig config = config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                  - id: b
                    source: web
                    destination: warehouse
                    function: broken.js
                """, "");
        assertThatThrownBy(() -> new Functions(config, registry, Clock.systemUTC()).start())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("syncs[1].function")
                .hasMessageContaining("broken.js")
                .hasMessageContaining("(line 2)");
    }

    @Test
    void startupRejectsMissingFilesScriptsWithoutTransformAndTopLevelErrors() {
        for (String[] c : new String[][] {
            {"missing.js", null, "does not exist"},
            {"none.js", "function transfrom(e) { return e; }", "does not define function transform"},
            {"top.js", "\n\nnull.x;\nfunction transform(e) { return e; }", "(line 3)"},
            {"loop.js", "while (true) {}\nfunction transform(e) { return e; }", "timed out after 5000 ms"}
        }) {
            if (c[1] != null) write(dir.resolve(c[0]), c[1]);
            SluiceConfig config = config(dir, """
                      - id: a
                        source: web
                        destination: warehouse
                        function: %s
                    """.formatted(c[0]), "");
            assertThatThrownBy(() -> new Functions(config, registry, Clock.systemUTC()).start())
                    .as(c[0])
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("syncs[0].function")
                    .hasMessageContaining(c[2]);
        }
    }

    @Test
    void inlineSourceIsAccepted() {
        SluiceConfig config = config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                    function: |
                      function transform(event) { event.inline = true; return event; }
                """, "");
        try (Functions functions = new Functions(config, registry, Clock.systemUTC())) {
            functions.start();
            assertThat(functions
                            .apply("a", List.of(event("m-1")))
                            .output()
                            .getFirst()
                            .path("inline")
                            .asBoolean())
                    .isTrue();
        }
    }
}
