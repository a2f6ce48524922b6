package io.sluice.destination.webhook;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TopicReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warehouse sync, a healthy webhook and a bad webhook on one source, through the whole pipeline (real Kafka,
 * PostgreSQL, HTTP): the bad webhook gets every event once it answers, once each and in per-user order measured at the
 * receiver, and the healthy webhook's p99 latency (receiver arrival minus send time) stays within +20 % or +200 ms of
 * the same run without the bad destination, measured in the same test.
 */
class BadWebhookPipelineTest {
    static final int USERS = 10;
    static final int PER_USER = 4;

    @TempDir
    Path dir;

    /** The flaky receiver: each event's first attempt 500, its second 429 + Retry-After: 1, then 200. */
    @Test
    void aFlakyReceiverGetsEveryEventWithinTenSecondsOfItsFirstFailure() throws Exception {
        try (TestReceiver flaky = new TestReceiver();
                TestReceiver healthy = new TestReceiver()) {
            Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
            Map<String, Long> firstFailure = new ConcurrentHashMap<>();
            Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
            Accepted flakyAccepted = new Accepted();
            flaky.answer(flakyAccepted.record(request -> {
                String id = request.header("Idempotency-Key");
                int attempt =
                        attempts.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                if (attempt == 1) {
                    firstFailure.put(id, System.nanoTime());
                    return TestReceiver.Reply.status(500).body("flaky");
                }
                if (attempt == 2) return TestReceiver.Reply.status(429).header("Retry-After", "1");
                acceptedAt.putIfAbsent(id, System.nanoTime());
                return TestReceiver.Reply.ok();
            }));
            Accepted healthyAccepted = new Accepted();
            healthy.answer(healthyAccepted.record(request -> TestReceiver.Reply.ok()));
            try (Sluice sluice = start(config(healthy.url(), flaky.url()))) {
                List<String> sent = send(sluice, "f", 0);
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> flakyAccepted.counts().keySet().containsAll(sent));
                Thread.sleep(500);
                assertThat(flakyAccepted.counts())
                        .as("every event accepted exactly once")
                        .containsOnlyKeys(sent)
                        .allSatisfy((key, count) -> assertThat(count).isEqualTo(1));
                for (String id : sent) {
                    assertThat(Duration.ofNanos(acceptedAt.get(id) - firstFailure.get(id)))
                            .as(id + ": from its first failure to its delivery")
                            .isLessThanOrEqualTo(Duration.ofSeconds(10));
                }
                assertThat(attempts.values())
                        .as("no event was given up or sent more than its script needs")
                        .allSatisfy(n -> assertThat(n.get()).isEqualTo(3));
                assertOrdered(flakyAccepted.events());
                assertThat(healthyAccepted.counts()).containsOnlyKeys(sent);
                assertThat(count(sluice, "dead_letters")).as("no dead letters").isZero();
            }
        }
    }

    /**
     * Each bad mode in turn against one baseline run without the bad destination: connection refused, black hole
     * (accepts TCP, never answers), 100 % 500, 429 with Retry-After: 2. The healthy webhook's p99 stays within +20 %
     * or +200 ms of the baseline; worker slots and retry rows stay bounded; a bad receiver that starts answering gets
     * every event once, in per-user order.
     */
    @Test
    @Disabled("Not yet reliable (issue #11): passed twice, then failed twice on a loaded machine in the"
            + " 'refused' mode (healthy p99 1.1 s vs 0.8 s, 7.3 s vs 3.0 s). Suspected cause: the bad sync's retry chains"
            + " (up to 8 per worker slot) contend for the queue database's connection pool with the healthy syncs.")
    void badReceiversDoNotSlowTheHealthyWebhookAndGetEverythingOnceTheyAnswer() throws Exception {
        try (TestReceiver healthy = new TestReceiver();
                BlackHole hole = new BlackHole();
                TestReceiver bad = new TestReceiver()) {
            Accepted baseline = new Accepted();
            healthy.answer(baseline.record(request -> TestReceiver.Reply.ok()));
            Duration without;
            try (Sluice sluice = start(config(healthy.url(), null))) {
                List<String> sent = send(sluice, "a", 40);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> baseline.counts().keySet().containsAll(sent));
                without = baseline.p99();
            }
            Duration allowed = max(without.multipliedBy(12).dividedBy(10), without.plusMillis(200));
            String refused;
            try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                refused = "http://127.0.0.1:" + closed.getLocalPort()
                        + "/hook"; // closed at once: connections are refused
            }
            Map<String, String> modes = new LinkedHashMap<>();
            modes.put("refused", refused);
            modes.put("black hole", hole.url());
            modes.put("500", bad.url());
            modes.put("30% 500", bad.url());
            modes.put("429 Retry-After: 2", bad.url());
            int round = 0;
            for (Map.Entry<String, String> mode : modes.entrySet()) {
                String prefix = "m" + round++;
                Accepted healthyNow = new Accepted();
                healthy.answer(healthyNow.record(request -> TestReceiver.Reply.ok()));
                Accepted badAccepted = new Accepted();
                Map<String, AtomicInteger> tries = new ConcurrentHashMap<>();
                bad.answer(
                        switch (mode.getKey()) {
                            case "500" ->
                                request -> TestReceiver.Reply.status(500).body("broken");
                            // 3 of every 10 requests fail (by arrival), the rest are accepted: it never recovers fully
                            case "30% 500" ->
                                badAccepted.record(request -> tries.computeIfAbsent("all", k -> new AtomicInteger())
                                                                .incrementAndGet()
                                                        % 10
                                                < 3
                                        ? TestReceiver.Reply.status(500).body("sometimes")
                                        : TestReceiver.Reply.ok());
                            default -> request -> TestReceiver.Reply.status(429).header("Retry-After", "2");
                        });
                try (Sluice sluice = start(config(healthy.url(), mode.getValue()))) {
                    List<String> sent = send(sluice, prefix, 40);
                    await().atMost(Duration.ofSeconds(30))
                            .until(() -> healthyNow.counts().keySet().containsAll(sent));
                    assertThat(healthyNow.p99())
                            .as(mode.getKey() + ": healthy p99 (without the bad destination: " + without.toMillis()
                                    + " ms)")
                            .isLessThanOrEqualTo(allowed);
                    assertOrdered(healthyNow.events());
                    assertThat(count(sluice, "retry_events"))
                            .as(mode.getKey() + ": retry rows bounded by the events")
                            .isLessThanOrEqualTo(sent.size());
                    assertThat(count(sluice, "dead_letters"))
                            .as(mode.getKey() + ": nothing dead before retry.maxAge")
                            .isZero();
                    if (mode.getValue().equals(bad.url())) {
                        if (!mode.getKey().equals("30% 500"))
                            bad.answer(badAccepted.record(request -> TestReceiver.Reply.ok()));
                        await().atMost(Duration.ofSeconds(60))
                                .until(() -> badAccepted.counts().keySet().containsAll(sent));
                        assertThat(badAccepted.counts())
                                .as(mode.getKey() + ": each event once")
                                .containsOnlyKeys(sent)
                                .allSatisfy((key, n) -> assertThat(n).isEqualTo(1));
                        assertOrdered(badAccepted.events());
                    }
                }
            }
            assertThat(hole.accepted()).as("the black hole was really called").isPositive();
            assertThat(hole.maxOpen())
                    .as("within the destination's 4 request slots (a closed connection is seen at the next accept)")
                    .isLessThanOrEqualTo(2 * 4);
        }
    }

    private Path config(String healthyUrl, String badUrl) throws IOException {
        String id = UUID.randomUUID().toString();
        Path config = dir.resolve("sluice-" + id + ".yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: bad-%s, partitions: 4, controlTopic: control-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_bad}]
                destinations:
                  - {id: warehouse, type: postgres, url: "%s"}
                  - {id: healthy, type: webhook, url: "%s", timeout: 2s}
                %s
                syncs:
                  - {id: to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 50, maxAge: 100ms}}
                  - {id: to-healthy, source: web, destination: healthy, batch: {maxEvents: 50, maxAge: 100ms}}
                %s
                planner: {groupId: bad-%s}
                worker: {concurrency: 4, pollInterval: 50ms}
                """.formatted(
                TestKafka.bootstrapServers(),
                id,
                id,
                TestPostgres.createDatabase("bad"),
                TestPostgres.createDatabase("wh"),
                healthyUrl,
                badUrl == null
                        ? ""
                        : "  - {id: bad, type: webhook, url: \"" + badUrl + "\", timeout: 2s, maxConcurrency: 4}",
                badUrl == null
                        ? ""
                        : "  - {id: to-bad, source: web, destination: bad, batch: {maxEvents: 50, maxAge: 100ms}}",
                id));
        return config;
    }

    private static Sluice start(Path config) throws Exception {
        Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).load(config), EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }

    /** PER_USER events for each of USERS users, in rounds {@code paceMillis} apart (0: one request). */
    private static List<String> send(Sluice sluice, String prefix, long paceMillis) throws InterruptedException {
        List<String> ids = new ArrayList<>();
        for (int n = 0; n < PER_USER; n++) {
            StringBuilder body = new StringBuilder("{\"batch\":[");
            for (int u = 0; u < USERS; u++) {
                String id = prefix + "u" + u + "-" + n;
                ids.add(id);
                body.append(u == 0 ? "" : ",")
                        .append("{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"user-")
                        .append(u)
                        .append("\",\"messageId\":\"")
                        .append(id)
                        .append("\",\"properties\":{\"seq\":")
                        .append(n)
                        .append(",\"sentAtMs\":")
                        .append(System.currentTimeMillis())
                        .append("}}");
            }
            var response = post(
                    sluice.collectorUrl() + "/v1/batch",
                    body.append("]}").toString(),
                    "Authorization",
                    basic("wk_bad"));
            assertThat(response.statusCode()).isEqualTo(200);
            if (paceMillis > 0) Thread.sleep(paceMillis);
        }
        return ids;
    }

    /** What a receiver accepted (answered 200), in arrival order, counted by Idempotency-Key, with its latency. */
    static final class Accepted {
        private final Map<String, Integer> counts = new ConcurrentHashMap<>();
        private final List<JsonNode> events = Collections.synchronizedList(new ArrayList<>());
        private final List<Long> latencies = new CopyOnWriteArrayList<>();

        Function<TestReceiver.Request, TestReceiver.Reply> record(
                Function<TestReceiver.Request, TestReceiver.Reply> script) {
            return request -> {
                TestReceiver.Reply reply = script.apply(request);
                if (reply.status() == 200) {
                    JsonNode event = TopicReader.json(request.text());
                    if (counts.merge(request.header("Idempotency-Key"), 1, Integer::sum) == 1) {
                        latencies.add(System.currentTimeMillis()
                                - event.at("/properties/sentAtMs").asLong());
                    }
                    events.add(event);
                }
                return reply;
            };
        }

        Map<String, Integer> counts() {
            return Map.copyOf(counts);
        }

        List<JsonNode> events() {
            synchronized (events) {
                return List.copyOf(events);
            }
        }

        Duration p99() {
            List<Long> sorted = latencies.stream().sorted().toList();
            return Duration.ofMillis(sorted.get(Math.max(0, (int) Math.ceil(sorted.size() * 0.99) - 1)));
        }
    }

    /** Accepts TCP connections on 127.0.0.1 and never answers (holds them open until closed). */
    static final class BlackHole implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> held = new CopyOnWriteArrayList<>();
        private final AtomicInteger accepted = new AtomicInteger();
        private final AtomicInteger maxOpen = new AtomicInteger();

        /** Whether the peer still holds the connection (a read would block rather than see EOF). */
        private static boolean open(Socket socket) {
            try {
                socket.setSoTimeout(1);
                byte[] buffer = new byte[8192];
                while (socket.getInputStream().read(buffer) != -1) {
                    // drain what the client sent; EOF means it gave up and closed
                }
                return false;
            } catch (SocketTimeoutException e) {
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        BlackHole() throws IOException {
            server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        held.add(server.accept());
                        accepted.incrementAndGet();
                        held.removeIf(Socket::isClosed);
                        maxOpen.accumulateAndGet(
                                (int) held.stream().filter(BlackHole::open).count(), Math::max);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort() + "/hook";
        }

        int accepted() {
            return accepted.get();
        }

        /** Most connections open at once (the client's slots; closed ones are those it gave up on). */
        int maxOpen() {
            return maxOpen.get();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : held) s.close();
        }
    }

    private static long count(Sluice sluice, String table) throws Exception {
        try (var ds = TestPostgres.dataSource(sluice.jdbcUrl());
                Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static void assertOrdered(List<JsonNode> events) {
        Map<String, Integer> last = new LinkedHashMap<>();
        for (JsonNode event : events) {
            int seq = event.at("/properties/seq").asInt();
            Integer previous = last.put(event.get("userId").asText(), seq);
            if (previous != null)
                assertThat(seq).as("order of " + event.get("userId").asText()).isGreaterThan(previous);
        }
    }
}
