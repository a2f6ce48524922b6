package io.sluice.destination.webhook;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.Collection;
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

/** What the bad-webhook pipeline tests share: a Sluice with a warehouse, a healthy and a bad webhook sync; senders. */
final class BadWebhookRig {
    static final int USERS = 10;

    private BadWebhookRig() {}

    /**
     * A config with the warehouse and healthy syncs, and the bad one when {@code badUrl} is set. The bad destination's
     * breaker cool-down and retry cap are short so that a test's recovery takes seconds, not minutes.
     */
    static Path config(Path dir, String healthyUrl, String badUrl, Duration badTimeout) throws IOException {
        String id = UUID.randomUUID().toString();
        Path config = dir.resolve("sluice-" + id + ".yaml");
        String bad = badUrl == null
                ? ""
                : "  - {id: bad, type: webhook, url: \"" + badUrl + "\", timeout: " + badTimeout.toMillis()
                        + "ms, maxConcurrency: 4, circuitBreaker: {coolDown: 2s}, retry: {base: 250ms, cap: 2s}}";
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
                        bad,
                        badUrl == null
                                ? ""
                                : "  - {id: to-bad, source: web, destination: bad, batch: {maxEvents: 50, maxAge: 100ms}}",
                        id));
        return config;
    }

    static Sluice start(Path config) throws Exception {
        Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).load(config), EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }

    /** {@code rounds} events for each of {@code users} users, one request per round, rounds {@code paceMillis} apart. */
    static List<String> send(Sluice sluice, String prefix, int users, int rounds, long paceMillis)
            throws InterruptedException {
        return send(sluice, prefix, users, 0, rounds, paceMillis);
    }

    /** As {@link #send(Sluice, String, int, int, long)}, the users' sequence numbers starting at {@code fromSeq}. */
    static List<String> send(Sluice sluice, String prefix, int users, int fromSeq, int rounds, long paceMillis)
            throws InterruptedException {
        List<String> ids = new ArrayList<>();
        for (int n = fromSeq; n < fromSeq + rounds; n++) {
            ids.addAll(sendRound(sluice, prefix, users, n));
            if (paceMillis > 0) Thread.sleep(paceMillis); // wall clock: the test asked for a paced load
        }
        return ids;
    }

    /** One request with event {@code seq} of each user. */
    static List<String> sendRound(Sluice sluice, String prefix, int users, int seq) {
        List<String> ids = new ArrayList<>();
        StringBuilder body = new StringBuilder("{\"batch\":[");
        for (int u = 0; u < users; u++) {
            String id = prefix + "u" + u + "-" + seq;
            ids.add(id);
            body.append(u == 0 ? "" : ",")
                    .append("{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"user-")
                    .append(u)
                    .append("\",\"messageId\":\"")
                    .append(id)
                    .append("\",\"properties\":{\"seq\":")
                    .append(seq)
                    .append(",\"sentAtMs\":")
                    .append(System.currentTimeMillis())
                    .append("}}");
        }
        var response = post(
                sluice.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_bad"));
        assertThat(response.statusCode()).isEqualTo(200);
        return ids;
    }

    /** What a receiver accepted (answered 200), in arrival order, counted by Idempotency-Key, with its latency. */
    static final class Accepted {
        private final Map<String, Integer> counts = new ConcurrentHashMap<>();
        private final List<JsonNode> events = Collections.synchronizedList(new ArrayList<>());
        private final Map<String, Long> latencies = new ConcurrentHashMap<>();

        Function<TestReceiver.Request, TestReceiver.Reply> record(
                Function<TestReceiver.Request, TestReceiver.Reply> script) {
            return request -> {
                TestReceiver.Reply reply = script.apply(request);
                if (reply.status() == 200) {
                    JsonNode event = TopicReader.json(request.text());
                    String key = request.header("Idempotency-Key");
                    if (counts.merge(key, 1, Integer::sum) == 1) {
                        latencies.put(
                                key,
                                System.currentTimeMillis()
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

        boolean hasAll(Collection<String> ids) {
            return counts.keySet().containsAll(ids);
        }

        List<JsonNode> events() {
            synchronized (events) {
                return List.copyOf(events);
            }
        }

        /** The 99th percentile of the first-arrival latencies (receiver arrival − send time) of {@code ids}. */
        Duration p99(Collection<String> ids) {
            List<Long> sorted = ids.stream().map(latencies::get).sorted().toList();
            return Duration.ofMillis(sorted.get(Math.max(0, (int) Math.ceil(sorted.size() * 0.99) - 1)));
        }

        Duration p99() {
            return p99(latencies.keySet());
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
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
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

        int port() {
            return server.getLocalPort();
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

    static long count(Sluice sluice, String table) throws Exception {
        return query(sluice, "SELECT count(*) FROM " + table);
    }

    static long query(Sluice sluice, String sql) throws Exception {
        try (var ds = TestPostgres.dataSource(sluice.jdbcUrl());
                Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void assertOrdered(List<JsonNode> events) {
        Map<String, Integer> last = new LinkedHashMap<>();
        for (JsonNode event : events) {
            int seq = event.at("/properties/seq").asInt();
            Integer previous = last.put(event.get("userId").asText(), seq);
            if (previous != null)
                assertThat(seq).as("order of " + event.get("userId").asText()).isGreaterThan(previous);
        }
    }
}
