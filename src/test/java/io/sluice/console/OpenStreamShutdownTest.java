package io.sluice.console;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Bug 1 of issue 25: stopping Sluice while debugger streams were open flooded the log with millions of lines of
 * "Response does not exist" and missed the shutdown budget. With open streams (as with {@code curl -N} or a source
 * page) the stop must be as quick and quiet as without.
 */
class OpenStreamShutdownTest {
    /** A stop with no stream open logs about 40 lines; a few more for the streams being closed are fine, a flood not. */
    static final int MAX_LOG_LINES = 200;

    @Test
    void stoppingWithOpenDebuggerStreamsIsQuickAndQuiet() throws Exception {
        Path dir = Files.createTempDirectory("sluice-stream-stop");
        String id = UUID.randomUUID().toString();
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: stop-%s, partitions: 1, controlTopic: stop-control-%s, violationsTopic: stop-violations-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_stop}]
                destinations: [{id: hook, type: webhook, url: "http://127.0.0.1:9/hook"}]
                syncs: [{id: web-to-hook, source: web, destination: hook}]
                planner: {groupId: stop-%s}
                """.formatted(
                        TestKafka.bootstrapServers(), id, id, id, TestPostgres.createDatabase("streamstop"), id));
        Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).load(config), EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC());
        sluice.start();
        HttpClient http =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<InputStream> streams = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        List<String> heard = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<InputStream> response = http.send(
                    HttpRequest.newBuilder(URI.create(sluice.adminUrl() + "/console/api/sources/web/live"))
                            .header("Accept", "text/event-stream")
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(response.statusCode()).isEqualTo(200);
            streams.add(response.body());
            BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
            // keeps reading, as a browser does, until the server ends the stream
            readers.add(Thread.ofVirtual().start(() -> {
                try {
                    for (String line; (line = lines.readLine()) != null; ) heard.add(line);
                } catch (Exception e) {
                    heard.add("closed: " + e);
                }
            }));
        }
        org.awaitility.Awaitility.await("every stream says hello")
                .atMost(Duration.ofSeconds(20))
                .conditionEvaluationListener(c -> {
                    if (c.getRemainingTimeInMS() < 600) System.out.println("HEARD " + heard);
                })
                .until(() ->
                        heard.stream().filter(l -> l.equals("event: hello")).count() == 3);

        try (CountingAppender log = CountingAppender.open()) {
            long started = System.nanoTime();
            sluice.close();
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertThat(took).as("stop with open streams").isLessThan(Sluice.SHUTDOWN_BUDGET);
            assertThat(log.count())
                    .as("log lines during the stop; the first ones: %s", log.first())
                    .isLessThan(MAX_LOG_LINES);
            assertThat(log.first())
                    .as("no service overran the shutdown budget")
                    .noneMatch(l -> l.contains("did not stop within the shutdown budget"))
                    .noneMatch(l -> l.contains("Response does not exist"));
        }
        for (Thread reader : readers)
            assertThat(reader.join(Duration.ofSeconds(5))).isTrue();
        for (InputStream s : streams) s.close();
    }

    /** Counts every line logged at any level (a flood is what bug 1 was), keeping the first few. */
    static final class CountingAppender extends AppenderBase<ILoggingEvent> implements AutoCloseable {
        private final AtomicLong count = new AtomicLong();
        private final List<String> first = new CopyOnWriteArrayList<>();

        static CountingAppender open() {
            CountingAppender appender = new CountingAppender();
            appender.setName("count-all");
            appender.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
            appender.start();
            root().addAppender(appender);
            return appender;
        }

        @Override
        protected void append(ILoggingEvent event) {
            if (count.incrementAndGet() <= 20)
                first.add(event.getLoggerName() + ": " + event.getFormattedMessage()
                        + (event.getThrowableProxy() == null
                                ? ""
                                : " (" + event.getThrowableProxy().getClassName() + ": "
                                        + event.getThrowableProxy().getMessage() + ")"));
        }

        long count() {
            return count.get();
        }

        List<String> first() {
            return List.copyOf(first);
        }

        @Override
        public void close() {
            root().detachAppender(this);
            stop();
        }

        private static Logger root() {
            return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        }
    }
}
