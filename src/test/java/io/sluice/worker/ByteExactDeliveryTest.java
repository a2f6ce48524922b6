package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.db.QueueDatabase;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.destination.OwnInfrastructure;
import io.sluice.destination.webhook.WebhookDestinationFactory;
import io.sluice.event.ExactEvent;
import io.sluice.event.UserKey;
import io.sluice.failover.WriteGate;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterReplay;
import io.sluice.queue.DeadLetterStore;
import io.sluice.queue.PlannedBatch;
import io.sluice.queue.QueueStore;
import io.sluice.queue.RetryStore;
import io.sluice.support.MutableClock;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile ids and payloads through a real webhook (a receiver that records every request's bytes), the retry queue
 * and the dead letters on a real PostgreSQL, read from a real Kafka: what the receiver gets, first and on replay, is
 * byte for byte what was accepted, every id stays its own (no NUL stripping, no two ids made one), and every
 * Idempotency-Key is the documented encoding of the messageId (docs/webhooks.md "Idempotency keys").
 */
class ByteExactDeliveryTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** messageIds as JSON string contents (escapes as a client would send them), each also the base of a user id. */
    static final List<String> HOSTILE_IDS = List.of(
            "m-plain",
            "m\\u0000",
            "m\\\\u0000",
            "m\\\\",
            "m\\nline",
            "m\\rcr",
            "m-\u00e9-\u975e-\ud83d\ude00",
            "m-\\u200f\\u202e-rtl",
            "m-\\ud800-lone",
            "m-%41",
            "m with space",
            "m-" + "x".repeat(10_240));

    /** Properties a tree re-serialisation would change (numbers, escapes, spacing): every event carries them. */
    static final List<String> QUIRKS = List.of(
            "\"a\":1.10",
            "\"b\":1E2",
            "\"c\":-0",
            "\"d\":123456789012345678901234567890",
            "\"e\":1e400",
            "\"f\":-0.0",
            "\"s\":\"x\\\\u0000y\"",
            "\"n\":\"x\\u0000y\"",
            "\"u\":\"\u00e9\\u00e9\\ud83d\\ude00\"",
            "\"slash\":\"\\/\"");

    final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    final Receiver receiver = new Receiver();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    QueueDatabase database;
    QueueStore store;
    RetryStore retries;
    DeadLetterStore deadLetters;
    String topic;

    @BeforeEach
    void setUp() {
        topic = TestEvents.createTopic("exact", 1);
        database = new QueueDatabase(TestPostgres.createDatabase("exact"), TestPostgres.USER, "", 4);
        database.start();
        WriteGate gate = new WriteGate(clock, Duration.ZERO);
        store = new QueueStore(database.dataSource(), topic, new SimpleMeterRegistry(), gate);
        retries = new RetryStore(database.dataSource(), gate);
        deadLetters = new DeadLetterStore(database.dataSource(), gate);
    }

    @AfterEach
    void tearDown() {
        receiver.close();
        database.close();
    }

    /** Event i: hostile id i as messageId and (with "-user") userId, the quirks, spacing varied with i. */
    static List<byte[]> hostileEvents() {
        List<byte[]> events = new ArrayList<>();
        for (int i = 0; i < HOSTILE_IDS.size(); i++) {
            String colon = i % 2 == 0 ? ":" : " : ";
            String id = HOSTILE_IDS.get(i);
            String json = "{\"type\"" + colon + "\"track\",\"event\":\"Hostile\",\"userId\":\"" + id + "-user\","
                    + "\"messageId\"" + colon + "\"" + id + "\",\"properties\":{" + String.join(",", QUIRKS) + "},"
                    + "\"receivedAt\":\"2026-05-01T10:00:00.000Z\",\"sourceId\":\"web\"}";
            events.add(json.getBytes(StandardCharsets.UTF_8));
        }
        return events;
    }

    @Test
    void whatIsSentFirstAndOnReplayIsWhatWasAcceptedByteForByte() throws Exception {
        List<byte[]> accepted = hostileEvents();
        List<String> ids = new ArrayList<>();
        for (byte[] event : accepted)
            ids.add(MAPPER.readTree(event).get("messageId").asText());
        assertThat(Set.copyOf(ids)).as("the ids are all different").hasSize(ids.size());
        assertThat(ids).contains("m\0", "m\\u0000");
        for (byte[] event : accepted) {
            assertThat(MAPPER.writeValueAsBytes(MAPPER.readTree(event)))
                    .as("Jackson's tree alone would alter each event")
                    .isNotEqualTo(event);
        }

        List<Long> offsets = TestEvents.send(
                topic,
                0,
                accepted.stream()
                        .map(e -> new String[] {"web", "u", new String(e, StandardCharsets.UTF_8)})
                        .toList());
        store.recordPlan(
                List.of(new PlannedBatch("s", 0, offsets.getFirst(), offsets.getLast(), accepted.size(), 1000)),
                List.of(),
                clock.instant());
        receiver.status = 400; // refused for good: every event becomes a dead letter

        try (Worker worker = worker()) {
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(bodies(receiver.take()))
                    .as("the first delivery sends the accepted bytes")
                    .containsExactlyInAnyOrderElementsOf(bodies(accepted));

            List<DeadLetter> letters = deadLetters.list("s", null, false, 100);
            assertThat(letters.stream().map(DeadLetter::messageId)).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(letters.stream().map(d -> text(ExactEvent.bytes(d.event()))))
                    .containsExactlyInAnyOrderElementsOf(bodies(accepted));
            assertThat(column("SELECT event FROM dead_letters"))
                    .as("stored as accepted")
                    .containsExactlyInAnyOrderElementsOf(bodies(accepted));

            receiver.status = 200; // the receiver is fixed
            assertThat(new DeadLetterReplay(deadLetters, retries, clock, null).replay("s", null, null, n -> {}))
                    .isEqualTo(accepted.size());
            assertThat(column("SELECT event FROM retry_events"))
                    .as("the retry queue holds the accepted bytes")
                    .containsExactlyInAnyOrderElementsOf(bodies(accepted));
            List<String> users =
                    accepted.stream().map(ByteExactDeliveryTest::userKey).toList();
            assertThat(retries.waitingUsers("s", users))
                    .as("each user (NUL, 10 KB, lone surrogate...) is its own chain")
                    .containsExactlyInAnyOrderElementsOf(users);

            List<Request> replayed = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                worker.retryDue();
                replayed.addAll(receiver.take());
                return replayed.size() >= accepted.size();
            });
            assertThat(bodies(replayed))
                    .as("the replay sends the accepted bytes, each once")
                    .containsExactlyElementsOf(
                            bodies(accepted).stream().sorted().toList());
            assertThat(column("SELECT event FROM retry_events")).isEmpty();

            Map<String, String> keyById = replayed.stream()
                    .collect(Collectors.toMap(
                            r -> {
                                try {
                                    return MAPPER.readTree(r.body())
                                            .get("messageId")
                                            .asText();
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            },
                            Request::key));
            assertThat(keyById.values())
                    .as("one key per id, visible ASCII only")
                    .doesNotHaveDuplicates()
                    .allSatisfy(key -> assertThat(key).matches("[\\x21-\\x7e]{1,512}"));
            assertThat(keyById)
                    .containsEntry("m-plain", "m-plain")
                    .containsEntry("m\0", "m%00")
                    .containsEntry("m\\u0000", "m\\u0000")
                    .containsEntry("m\nline", "m%0Aline")
                    .containsEntry("m\rcr", "m%0Dcr")
                    .containsEntry("m-\u00e9-\u975e-\ud83d\ude00", "m-%C3%A9-%E9%9D%9E-%F0%9F%98%80")
                    .containsEntry("m-\ud800-lone", "m-%ED%A0%80-lone")
                    .containsEntry("m-%41", "m-%2541")
                    .containsEntry("m with space", "m%20with%20space")
                    .containsEntry(ids.getLast(), "%sha256:" + sha256Hex(ids.getLast()));
        }
    }

    private static String userKey(byte[] event) {
        try {
            return UserKey.of((ObjectNode) MAPPER.readTree(event));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256Hex(String id) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8)));
    }

    /** Bytes compared as text where every byte is one char (ISO-8859-1): equal texts, equal bytes. */
    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static List<String> bodies(List<?> requestsOrBytes) {
        return requestsOrBytes.stream()
                .map(o -> text(o instanceof Request r ? r.body() : (byte[]) o))
                .sorted()
                .toList();
    }

    private List<String> column(String sql) throws Exception {
        List<String> values = new ArrayList<>();
        try (var c = database.dataSource().getConnection();
                var rs = c.createStatement().executeQuery(sql)) {
            while (rs.next()) values.add(text(rs.getBytes(1)));
        }
        return values;
    }

    private Worker worker() {
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: hooks, type: webhook, url: "%s", retry: {base: 1s, cap: 1m, maxAttempts: 3}}]
                syncs: [{id: s, source: web, destination: hooks}]
                """.formatted(receiver.url()));
        Destination hooks = new WebhookDestinationFactory()
                .create(
                        (DestinationSettings.Webhook) config.destination("hooks"),
                        new DestinationContext(OwnInfrastructure.NONE, registry, clock));
        hooks.open();
        return new Worker(
                config,
                new WorkerStores(store, retries, deadLetters),
                Map.of("hooks", hooks),
                null,
                new BatchReader(TestKafka.clients(), config.worker().concurrency()),
                clock,
                registry,
                "exact-worker");
    }

    record Request(String key, byte[] body) {}

    /** A real HTTP receiver that keeps every request's Idempotency-Key and body bytes and answers {@link #status}. */
    static final class Receiver implements AutoCloseable {
        final HttpServer server;
        final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
        volatile int status = 200;

        Receiver() {
            try {
                server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            server.createContext("/hook", exchange -> {
                try (exchange) {
                    byte[] body = exchange.getRequestBody().readAllBytes();
                    requests.add(new Request(exchange.getRequestHeaders().getFirst("Idempotency-Key"), body));
                    exchange.sendResponseHeaders(status, -1);
                }
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        }

        /** The requests received since the last take. */
        List<Request> take() {
            synchronized (requests) {
                List<Request> taken = List.copyOf(requests);
                requests.clear();
                return taken;
            }
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
