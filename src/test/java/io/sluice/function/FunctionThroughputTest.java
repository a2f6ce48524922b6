package io.sluice.function;

import static io.sluice.function.FunctionFixtures.config;
import static io.sluice.function.FunctionFixtures.event;
import static io.sluice.function.FunctionFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.graalvm.polyglot.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Events/s through a typical function on one thread: logged, not asserted (see docs/functions.md for figures).
 * {@code -Dsluice.bench.seconds=N} measures longer.
 */
class FunctionThroughputTest {
    private static final Logger log = LoggerFactory.getLogger(FunctionThroughputTest.class);

    @TempDir
    Path dir;

    @Test
    void typicalFunctionThroughputSingleThreaded() {
        write(dir.resolve("typical.js"), """
                function transform(event, context) {
                  event.properties.plan = context.settings.plan;
                  event.properties.source_region = 'eu-west';
                  event.properties.total = event.properties.revenue;
                  delete event.properties.revenue;
                  return event;
                }
                """);
        long seconds = Long.getLong("sluice.bench.seconds", 4);
        try (Functions functions =
                new Functions(config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                    function: typical.js
                    settings: {plan: pro}
                """, "  timeout: 1s"), new SimpleMeterRegistry(), Clock.systemUTC())) {
            functions.start();
            List<ObjectNode> batch = new ArrayList<>();
            for (int i = 0; i < 1000; i++) batch.add(event("m-" + i));
            long warmUntil = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < warmUntil) functions.apply("a", batch);

            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long events = 0;
            long cpuBegun = threads.getCurrentThreadCpuTime();
            long begun = System.nanoTime();
            long until = begun + seconds * 1_000_000_000L;
            while (System.nanoTime() < until) {
                FunctionResult result = functions.apply("a", batch);
                events += batch.size();
                assertThat(result.failures()).isEmpty();
            }
            double perSecond = events / ((System.nanoTime() - begun) / 1e9);
            double perCpuSecond = events / ((threads.getCurrentThreadCpuTime() - cpuBegun) / 1e9);
            String runtime;
            try (Engine engine = Engine.newBuilder("js")
                    .option("engine.WarnInterpreterOnly", "false")
                    .build()) {
                runtime = engine.getImplementationName();
            }
            log.info(
                    "Function throughput: {} events/s per CPU-second of the calling thread, {} events/s wall clock "
                            + "(one thread, typical function, runtime {}, JVM {} {}, {} processors)",
                    Math.round(perCpuSecond),
                    Math.round(perSecond),
                    runtime,
                    System.getProperty("java.vm.name"),
                    System.getProperty("java.version"),
                    Runtime.getRuntime().availableProcessors());
            assertThat(functions
                            .apply("a", batch.subList(0, 1))
                            .output()
                            .getFirst()
                            .path("properties")
                            .path("total")
                            .asDouble())
                    .isEqualTo(12.5);
        }
    }
}
