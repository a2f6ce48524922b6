package io.sluice.config;

import static io.sluice.config.Key.key;
import static io.sluice.config.Key.required;
import static io.sluice.config.Key.secret;

import io.sluice.config.ConfigSchema.ListOf;
import io.sluice.config.ConfigSchema.Section;
import io.sluice.config.SluiceConfig.BreakerSettings;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.config.SluiceConfig.RetrySettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The keys of each destination type and the typed {@link DestinationSettings} record each builds. An element's
 * {@code type} chooses its variant; what only the type's factory can judge (header names, producer settings) is
 * checked by the factory in the same configuration step.
 */
final class DestinationSchema {
    private DestinationSchema() {}

    static final Key<String> ID = required("id", Kind.IDENTIFIER, "Destination id, referenced by syncs.");
    static final Key<String> TYPE = required("type", Kind.STRING, "Destination type: postgres, webhook or kafka.");

    /** The {@code retry} section of the types that have one (else the worker's retryBase/retryCap/... apply). */
    static final class Retry {
        final Key<Duration> base =
                key("base", Kind.DURATION, "1s", "First retry delay; doubles per attempt, with jitter.");
        final Key<Duration> cap = key("cap", Kind.DURATION, "5m", "Longest retry delay; at least base.");
        final Key<Duration> maxAge = key(
                "maxAge", Kind.DURATION, "4h", "After this long since the first failure, events become dead letters.");
        final Key<Integer> maxAttempts =
                key("maxAttempts", Kind.POSITIVE_INT, "20", "... or after this many attempts.");
        final Section section = Section.of("retry", base, cap, maxAge, maxAttempts);

        RetrySettings read(Values element) {
            Values v = element.in(section);
            return new RetrySettings(v.get(base), v.get(cap), v.get(maxAge), v.get(maxAttempts));
        }
    }

    static final class Warehouse {
        static final Key<String> URL = key(
                "url",
                Kind.JDBC_URL,
                "embedded",
                "Warehouse database; 'embedded' is the database 'warehouse' on the embedded PostgreSQL.");
        static final Key<String> USER =
                key("user", Kind.STRING, "sluice", "Warehouse user (needs CREATE on the database).");
        static final Key<String> PASSWORD =
                secret("password", Kind.OPTIONAL_STRING, "", "Warehouse password; use ${ENV_VAR}.");
        static final Key<Integer> COLUMN_BUDGET = key(
                "columnBudget",
                Kind.POSITIVE_INT,
                "1000",
                "Columns a warehouse table may have before new names go to its jsonb column _sluice_extra (20 to 1500).");
        static final Section KEYS = Section.of("postgres", URL, USER, PASSWORD, COLUMN_BUDGET);

        static DestinationSettings read(Values v) {
            return new DestinationSettings.Warehouse(
                    v.get(ID), v.get(URL), v.get(USER), v.get(PASSWORD), v.get(COLUMN_BUDGET));
        }
    }

    static final class Webhook {
        static final Key<String> URL = required("url", Kind.HTTP_URL, "Where events are POSTed (http or https).");
        static final Key<String> MODE = key(
                "mode", Kind.WEBHOOK_MODE, "event", "event: one event per request; batch: a JSON array per request.");
        static final Key<Integer> MAX_BATCH_EVENTS =
                key("maxBatchEvents", Kind.POSITIVE_INT, "100", "Most events in one request in batch mode.");
        static final Key<Map<String, String>> HEADERS =
                key("headers", Kind.STRING_MAP, "", "Extra request headers, a mapping of name to value.");
        static final Key<Duration> TIMEOUT =
                key("timeout", Kind.DURATION, "10s", "Request timeout; a timeout is retried.");
        static final Key<String> SECRET = secret(
                "secret",
                Kind.OPTIONAL_STRING,
                "",
                "Enables X-Sluice-Signature (HMAC-SHA256 of the body) and X-Sluice-Timestamp.");
        static final Key<String> DELETION_URL = key(
                "deletionUrl",
                Kind.OPTIONAL_HTTP_URL,
                "",
                "Optional http(s) URL that privacy deletion requests POST the deleted ids to (docs/privacy.md).");
        static final Key<String> RATE_LIMIT =
                key("rateLimit", Kind.RATE, "", "Optional limit such as 200/s (requests) or 5000 events/s.");
        static final Key<Integer> MAX_CONCURRENCY = key(
                "maxConcurrency",
                Kind.POSITIVE_INT,
                "8",
                "Most requests in flight at once to this destination (its own slots); the current limit adapts (AIMD) between 1 and this.");
        static final Key<Duration> MAX_WAIT = key(
                "maxWait",
                Kind.DURATION,
                "2s",
                "Longest a request waits for one of the destination's slots or a rate-limit token; then its event is parked in the retry queue without using up an attempt.");
        static final Key<Boolean> ORDER_PER_USER = key(
                "orderPerUser", Kind.BOOLEAN, "true", "Later events of a user wait behind a failing one (event mode).");
        static final Retry RETRY = new Retry();
        static final Key<Integer> WINDOW = key(
                "window",
                Kind.POSITIVE_INT,
                "100",
                "Sliding window: the outcomes of this many recent requests are judged.");
        static final Key<Integer> MINIMUM_CALLS = key(
                "minimumCalls",
                Kind.POSITIVE_INT,
                "20",
                "No rate is judged before the window holds this many requests; at most window.");
        static final Key<Integer> FAILURE_RATE = key(
                "failureRate",
                Kind.POSITIVE_INT,
                "50",
                "Percent of unreachable/unresponsive requests (connect refused or timed out, TLS, request timeout) in the window that opens the circuit.");
        static final Key<Integer> ERROR_RATE = key(
                "errorRate",
                Kind.POSITIVE_INT,
                "90",
                "Percent of responsive errors (5xx with a response) in the window that opens the circuit; 429/503 never count.");
        static final Key<Integer> PROBES = key(
                "probes",
                Kind.POSITIVE_INT,
                "5",
                "Requests a half-open circuit lets through to decide whether to close.");
        static final Key<Duration> COOL_DOWN = key(
                "coolDown",
                Kind.DURATION,
                "10s",
                "How long an open circuit fails requests fast (without using up attempts) before probing.");
        static final Section CIRCUIT_BREAKER =
                Section.of("circuitBreaker", WINDOW, MINIMUM_CALLS, FAILURE_RATE, ERROR_RATE, PROBES, COOL_DOWN);
        static final Section KEYS = Section.of(
                "webhook",
                URL,
                MODE,
                MAX_BATCH_EVENTS,
                HEADERS,
                TIMEOUT,
                SECRET,
                DELETION_URL,
                RATE_LIMIT,
                MAX_CONCURRENCY,
                MAX_WAIT,
                ORDER_PER_USER,
                RETRY.section,
                CIRCUIT_BREAKER);

        static DestinationSettings read(Values v) {
            Values breaker = v.in(CIRCUIT_BREAKER);
            return new DestinationSettings.Webhook(
                    v.get(ID),
                    v.get(URL),
                    v.get(MODE),
                    v.get(MAX_BATCH_EVENTS),
                    v.get(HEADERS),
                    v.get(TIMEOUT),
                    v.get(SECRET),
                    v.get(RATE_LIMIT),
                    v.get(MAX_CONCURRENCY),
                    v.get(MAX_WAIT),
                    v.get(ORDER_PER_USER),
                    RETRY.read(v),
                    new BreakerSettings(
                            breaker.get(WINDOW),
                            breaker.get(MINIMUM_CALLS),
                            breaker.get(FAILURE_RATE),
                            breaker.get(ERROR_RATE),
                            breaker.get(PROBES),
                            breaker.get(COOL_DOWN)),
                    v.get(DELETION_URL));
        }
    }

    static final class Kafka {
        static final Key<String> BOOTSTRAP_SERVERS = key(
                "bootstrapServers",
                Kind.KAFKA_SERVERS,
                "embedded",
                "Target cluster; 'embedded'/'same' means Sluice's own Kafka.");
        static final Key<String> TOPIC = required("topic", Kind.STRING, "Target topic.");
        static final Key<Map<String, String>> PRODUCER = key(
                "producer",
                Kind.STRING_MAP,
                "",
                "Extra producer settings, a mapping of Kafka producer config names to values.");
        static final Key<Map<String, String>> CLIENT_PROPERTIES = key(
                "clientProperties",
                Kind.STRING_MAP,
                "",
                "Kafka client settings for the target cluster (TLS, SASL), like kafka.clientProperties; with 'embedded'/'same' they are added to kafka.clientProperties.");
        static final Key<String> MARKER_TOPIC = key(
                "markerTopic",
                Kind.STRING,
                "sluice.delivery-markers",
                "Compacted topic on the target cluster holding each sync and partition's delivery marker, committed in the same transaction as the events (created if missing).");
        static final Retry RETRY = new Retry();
        static final Section KEYS =
                Section.of("kafka", BOOTSTRAP_SERVERS, TOPIC, MARKER_TOPIC, PRODUCER, CLIENT_PROPERTIES, RETRY.section);

        static DestinationSettings read(Values v) {
            return new DestinationSettings.Kafka(
                    v.get(ID),
                    v.get(BOOTSTRAP_SERVERS),
                    v.get(TOPIC),
                    v.get(MARKER_TOPIC),
                    v.get(PRODUCER),
                    v.get(CLIENT_PROPERTIES),
                    RETRY.read(v));
        }
    }

    /** A destination type: its own keys and the record they build. */
    record Variant(Section keys, Function<Values, DestinationSettings> read) {}

    static final Map<String, Variant> VARIANTS = variants();

    private static Map<String, Variant> variants() {
        Map<String, Variant> variants = new LinkedHashMap<>();
        variants.put(DestinationSettings.Warehouse.TYPE, new Variant(Warehouse.KEYS, Warehouse::read));
        variants.put(DestinationSettings.Webhook.TYPE, new Variant(Webhook.KEYS, Webhook::read));
        variants.put(DestinationSettings.Kafka.TYPE, new Variant(Kafka.KEYS, Kafka::read));
        return java.util.Collections.unmodifiableMap(variants);
    }

    static final ListOf DESTINATIONS = new ListOf(
            "destinations",
            Section.of("destinations", ID, TYPE),
            "Where events are delivered; the 'type' decides the further keys.",
            List.of(Map.of("id", "warehouse", "type", "postgres")),
            false,
            sections());

    private static Map<String, Section> sections() {
        Map<String, Section> sections = new LinkedHashMap<>();
        VARIANTS.forEach((type, variant) -> sections.put(type, variant.keys()));
        return java.util.Collections.unmodifiableMap(sections);
    }

    static List<DestinationSettings> destinations(List<Values> elements) {
        List<DestinationSettings> destinations = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Values v : elements) {
            DestinationSettings destination = VARIANTS.get(v.get(TYPE)).read().apply(v);
            if (!ids.add(destination.id()))
                throw new ConfigException(v.path(ID), "duplicate destination id '" + destination.id() + "'");
            destinations.add(destination);
        }
        return List.copyOf(destinations);
    }
}
