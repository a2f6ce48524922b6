package io.sluice.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key Sluice knows, declared once with its type, default and documentation
 * (in the spirit of Kafka's ConfigDef). Later stages extend this tree; keys are never renamed.
 */
public final class ConfigSchema {

    public sealed interface Node permits Key, Section, ListOf, Opaque {}

    /**
     * A value whose shape its own component validates (a contract, custom headers, extra producer settings):
     * kept as the YAML tree, after ${...} expansion. Optional.
     */
    public record Opaque(String doc) implements Node {}

    /** A leaf value. {@code defaultValue == null} means the key is required. */
    public record Key(Kind kind, String defaultValue, String doc, boolean secret) implements Node {}

    public record Section(Map<String, Node> children) implements Node {}

    /**
     * A list of sections, e.g. {@code sources}; {@code standaloneDefault} is used when no config file exists. With
     * {@code variants}, an element's {@code type} chooses which further keys it has (destinations).
     */
    public record ListOf(
            Section element,
            String doc,
            List<Map<String, String>> standaloneDefault,
            boolean required,
            Map<String, Section> variants)
            implements Node {

        /** The keys an element with this type may have, or null for an unknown type. */
        Section elementFor(String type) {
            if (variants.isEmpty()) return element;
            Section variant = variants.get(type);
            if (variant == null) return null;
            Map<String, Node> merged = new LinkedHashMap<>(element.children());
            merged.putAll(variant.children());
            return new Section(merged);
        }
    }

    public static final Section ROOT = section(
            "dataDir",
                    key(
                            Kind.STRING,
                            "./data",
                            "Directory holding the embedded Kafka and PostgreSQL data; survives restarts."),
            "kafka",
                    section(
                            "bootstrapServers",
                                    key(
                                            Kind.KAFKA_SERVERS,
                                            "embedded",
                                            "'embedded' runs a single-node KRaft broker in-process; otherwise host:port,host:port of an external cluster."),
                            "eventsTopic",
                                    key(
                                            Kind.STRING,
                                            "sluice.events",
                                            "Topic the collector writes accepted events to; created at start if missing."),
                            "partitions",
                                    key(
                                            Kind.POSITIVE_INT,
                                            "8",
                                            "Partition count used when Sluice creates the events topic."),
                            "controlTopic",
                                    key(
                                            Kind.STRING,
                                            "sluice.control",
                                            "Compacted topic for operator commands (db pause/resume) and process reports."),
                            "violationsTopic",
                                    key(
                                            Kind.STRING,
                                            "sluice.violations",
                                            "Topic the collector publishes contract violations to; persisted into the violations table."),
                            "embeddedPort",
                                    key(
                                            Kind.PORT,
                                            "9092",
                                            "Client port of the embedded broker (its controller uses an ephemeral port)."),
                            "replicationFactor",
                                    key(
                                            Kind.REPLICAS,
                                            "auto",
                                            "Replication factor of the topics Sluice creates (events, control, violations). 'auto': 3, or the broker count of a smaller cluster (with a warning)."),
                            "minInsyncReplicas",
                                    key(
                                            Kind.REPLICAS,
                                            "auto",
                                            "min.insync.replicas of the topics Sluice creates: a 200 needs this many replicas to hold the events. 'auto': replication factor - 1 (at least 1). Start-up refuses an existing events topic with fewer replicas or a lower min.insync.replicas than set here.")),
            "postgres",
                    section(
                            "url",
                                    key(
                                            Kind.JDBC_URL,
                                            "embedded",
                                            "'embedded' runs PostgreSQL 17 from Maven-shipped binaries; otherwise a jdbc:postgresql:// URL (multi-host allowed)."),
                            "user", key(Kind.STRING, "sluice", "Database user of the queue database."),
                            "password",
                                    secret(
                                            Kind.OPTIONAL_STRING,
                                            "",
                                            "Database password; use ${ENV_VAR} to keep it out of the file."),
                            "embeddedPort",
                                    key(
                                            Kind.PORT,
                                            "5432",
                                            "Port of the embedded PostgreSQL server (listens on 127.0.0.1 only)."),
                            "maxPoolSize",
                                    key(Kind.POSITIVE_INT, "10", "Maximum connections in the queue-database pool."),
                            "instances",
                                    key(
                                            Kind.STRING_LIST,
                                            "",
                                            "Optional per-instance JDBC URLs (like Aurora's instance endpoints), polled for their role to detect writer changes and split brain."),
                            "writeHold",
                                    key(
                                            Kind.DURATION,
                                            "5s",
                                            "After a writer change or a read-only answer, queue writes hold until the same writer was seen this long."),
                            "probeInterval",
                                    key(
                                            Kind.DURATION,
                                            "1s",
                                            "How often the endpoint and instances are asked who the writer is."),
                            "socketTimeout",
                                    key(
                                            Kind.DURATION,
                                            "10s",
                                            "Longest wait for the queue database to answer a statement: a black-holed server (packets dropped, sockets left open) is noticed within this, its connections evicted and writes held.")),
            "collector",
                    section(
                            "host", key(Kind.STRING, "0.0.0.0", "Interface the collector HTTP server binds to."),
                            "port", key(Kind.PORT, "8080", "Port of the Segment-compatible tracking API."),
                            "trustedProxies",
                                    key(
                                            Kind.CIDR_LIST,
                                            "",
                                            "CIDRs of load balancers whose X-Forwarded-For header is believed for context.ip."),
                            "maxRequestSize",
                                    key(
                                            Kind.SIZE,
                                            "500KB",
                                            "Largest request body after decompression; larger requests get 413."),
                            "maxEventSize",
                                    key(
                                            Kind.SIZE,
                                            "32KB",
                                            "Largest single event as stored (enriched, batch context merged); larger events get 413."),
                            "maxBatchEvents",
                                    key(Kind.POSITIVE_INT, "2500", "Most events accepted in one batch request."),
                            "maxInFlightBytes",
                                    key(
                                            Kind.SIZE,
                                            "64MB",
                                            "Request bytes held in memory at once (reading, validating, awaiting Kafka); beyond it requests get 429."),
                            "ackTimeout",
                                    key(
                                            Kind.DURATION,
                                            "5s",
                                            "How long a request waits for Kafka to acknowledge all its events before answering 503."),
                            "minBodyRate",
                                    key(
                                            Kind.SIZE,
                                            "1KB",
                                            "Slowest accepted upload, in bytes per second from a body's first byte; a slower body gets 408 and its connection is closed.")),
            "admin",
                    section(
                            "host",
                                    key(
                                            Kind.STRING,
                                            "0.0.0.0",
                                            "Interface the admin server (health, readiness, metrics) binds to."),
                            "port", key(Kind.PORT, "8081", "Port of the admin server."),
                            "token",
                                    secret(
                                            Kind.OPTIONAL_STRING,
                                            "",
                                            "Bearer token required by the admin API's operations (POST /admin/...); empty disables them.")),
            "sources",
                    new ListOf(
                            section(
                                    "id",
                                            key(
                                                    Kind.IDENTIFIER,
                                                    null,
                                                    "Source id: used in Kafka keys, metrics and warehouse schema names."),
                                    "writeKey",
                                            secret(
                                                    Kind.STRING,
                                                    null,
                                                    "Write key clients authenticate with (HTTP Basic username or 'writeKey' in the body)."),
                                    "contract",
                                            new Opaque(
                                                    "Optional tracking plan: a mapping (see docs/contracts.md) or the path of a YAML file with one, relative to the config file.")),
                            "Event sources; at least one is required.",
                            List.of(Map.of("id", "web", "writeKey", "wk_web_example")),
                            true,
                            Map.of()),
            "destinations",
                    new ListOf(
                            section(
                                    "id", key(Kind.IDENTIFIER, null, "Destination id, referenced by syncs."),
                                    "type", key(Kind.STRING, null, "Destination type: postgres.")),
                            "Where events are delivered; the 'type' decides the further keys.",
                            List.of(Map.of("id", "warehouse", "type", "postgres")),
                            false,
                            Map.of(
                                    "postgres",
                                    section(
                                            "url",
                                                    key(
                                                            Kind.JDBC_URL,
                                                            "embedded",
                                                            "Warehouse database; 'embedded' is the database 'warehouse' on the embedded PostgreSQL."),
                                            "user",
                                                    key(
                                                            Kind.STRING,
                                                            "sluice",
                                                            "Warehouse user (needs CREATE on the database)."),
                                            "password",
                                                    secret(
                                                            Kind.OPTIONAL_STRING,
                                                            "",
                                                            "Warehouse password; use ${ENV_VAR}.")),
                                    "webhook",
                                    section(
                                            "url", key(Kind.HTTP_URL, null, "Where events are POSTed (http or https)."),
                                            "mode",
                                                    key(
                                                            Kind.WEBHOOK_MODE,
                                                            "event",
                                                            "event: one event per request; batch: a JSON array per request."),
                                            "maxBatchEvents",
                                                    key(
                                                            Kind.POSITIVE_INT,
                                                            "100",
                                                            "Most events in one request in batch mode."),
                                            "headers", new Opaque("Extra request headers, a mapping of name to value."),
                                            "timeout",
                                                    key(Kind.DURATION, "10s", "Request timeout; a timeout is retried."),
                                            "secret",
                                                    secret(
                                                            Kind.OPTIONAL_STRING,
                                                            "",
                                                            "Enables X-Sluice-Signature (HMAC-SHA256 of the body) and X-Sluice-Timestamp."),
                                            "rateLimit",
                                                    key(
                                                            Kind.RATE,
                                                            "",
                                                            "Optional limit such as 200/s (requests) or 5000 events/s."),
                                            "maxConcurrency",
                                                    key(
                                                            Kind.POSITIVE_INT,
                                                            "8",
                                                            "Most requests in flight at once to this destination (its own slots); the current limit adapts (AIMD) between 1 and this."),
                                            "maxWait",
                                                    key(
                                                            Kind.DURATION,
                                                            "2s",
                                                            "Longest a request waits for one of the destination's slots or a rate-limit token; then its event is parked in the retry queue without using up an attempt."),
                                            "orderPerUser",
                                                    key(
                                                            Kind.BOOLEAN,
                                                            "true",
                                                            "Later events of a user wait behind a failing one (event mode)."),
                                            "retry", retrySection(),
                                            "circuitBreaker",
                                                    section(
                                                            "window",
                                                                    key(
                                                                            Kind.POSITIVE_INT,
                                                                            "100",
                                                                            "Sliding window: the outcomes of this many recent requests are judged."),
                                                            "minimumCalls",
                                                                    key(
                                                                            Kind.POSITIVE_INT,
                                                                            "20",
                                                                            "No rate is judged before the window holds this many requests."),
                                                            "failureRate",
                                                                    key(
                                                                            Kind.POSITIVE_INT,
                                                                            "50",
                                                                            "Percent of unreachable/unresponsive requests (connect refused or timed out, TLS, request timeout) in the window that opens the circuit."),
                                                            "errorRate",
                                                                    key(
                                                                            Kind.POSITIVE_INT,
                                                                            "90",
                                                                            "Percent of responsive errors (5xx with a response) in the window that opens the circuit; 429/503 never count."),
                                                            "probes",
                                                                    key(
                                                                            Kind.POSITIVE_INT,
                                                                            "5",
                                                                            "Requests a half-open circuit lets through to decide whether to close."),
                                                            "coolDown",
                                                                    key(
                                                                            Kind.DURATION,
                                                                            "10s",
                                                                            "How long an open circuit fails requests fast (without using up attempts) before probing."))),
                                    "kafka",
                                    section(
                                            "bootstrapServers",
                                                    key(
                                                            Kind.KAFKA_SERVERS,
                                                            "embedded",
                                                            "Target cluster; 'embedded'/'same' means Sluice's own Kafka."),
                                            "topic", key(Kind.STRING, null, "Target topic."),
                                            "markerTopic",
                                                    key(
                                                            Kind.STRING,
                                                            "sluice.delivery-markers",
                                                            "Compacted topic on the target cluster holding each sync and partition's delivery marker, committed in the same transaction as the events (created if missing)."),
                                            "producer",
                                                    new Opaque(
                                                            "Extra producer settings, a mapping of Kafka producer config names to values."),
                                            "retry", retrySection()))),
            "syncs",
                    new ListOf(
                            section(
                                    "id", key(Kind.IDENTIFIER, null, "Sync id."),
                                    "source",
                                            key(
                                                    Kind.IDENTIFIER,
                                                    null,
                                                    "Id of the source whose events this sync delivers."),
                                    "destination", key(Kind.IDENTIFIER, null, "Id of the destination it delivers to."),
                                    "function",
                                            key(
                                                    Kind.OPTIONAL_STRING,
                                                    "",
                                                    "Optional JavaScript transformation: a .js path relative to the config file, or inline source defining transform(event, context)."),
                                    "settings",
                                            new Opaque(
                                                    "Read-only settings handed to the sync's function as context.settings (lookup tables, keys)."),
                                    "filter",
                                            section(
                                                    "types",
                                                            key(
                                                                    Kind.EVENT_TYPE_LIST,
                                                                    "",
                                                                    "Only these event types (empty: all)."),
                                                    "events",
                                                            key(
                                                                    Kind.STRING_LIST,
                                                                    "",
                                                                    "Only track events with these names (empty: all names).")),
                                    "batch",
                                            section(
                                                    "maxEvents",
                                                            key(
                                                                    Kind.POSITIVE_INT,
                                                                    "1000",
                                                                    "A batch is cut at this many matching events."),
                                                    "maxBytes",
                                                            key(
                                                                    Kind.SIZE,
                                                                    "1MB",
                                                                    "... or at this many bytes of matching events."),
                                                    "maxAge",
                                                            key(
                                                                    Kind.DURATION,
                                                                    "500ms",
                                                                    "... or this long after its first event was planned."))),
                            "Source-to-destination deliveries.",
                            List.of(Map.of("id", "web-to-warehouse", "source", "web", "destination", "warehouse")),
                            false,
                            Map.of()),
            "functions",
                    section(
                            "timeout",
                                    key(
                                            Kind.DURATION,
                                            "1s",
                                            "Longest a function may run for one event; then it is cancelled and the event dead-lettered."),
                            "poolSize",
                                    key(
                                            Kind.POSITIVE_INT,
                                            "4",
                                            "JavaScript contexts kept per function (one per concurrent call)."),
                            "reloadInterval",
                                    key(Kind.DURATION, "2s", "How often function files are checked for changes.")),
            "deadLetters",
                    section(
                            "retention",
                            key(Kind.DURATION, "30d", "Dead letters are pruned after this long (and only then).")),
            "planner",
                    section(
                            "groupId",
                            key(Kind.STRING, "sluice-planner", "Kafka consumer group of the planners."),
                            "recordInterval",
                            key(
                                    Kind.DURATION,
                                    "150ms",
                                    "Cut batches are written to the queue at most this often, all partitions in one transaction: shorter lowers latency, longer saves queue transactions.")),
            "worker",
                    section(
                            "concurrency",
                                    key(
                                            Kind.POSITIVE_INT,
                                            "8",
                                            "Batches one worker process delivers at the same time to each destination: every destination has this many slots of its own."),
                            "pollInterval",
                                    key(
                                            Kind.DURATION,
                                            "250ms",
                                            "Longest an idle worker waits before it looks for due batches again; newly planned batches and freed slots wake it at once."),
                            "leaseDuration",
                                    key(
                                            Kind.DURATION,
                                            "30s",
                                            "How long a claim lasts without a heartbeat; then other workers may take the batch."),
                            "heartbeatInterval",
                                    key(Kind.DURATION, "10s", "How often a worker extends the leases it holds."),
                            "retryBase",
                                    key(Kind.DURATION, "1s", "First retry delay; doubles per attempt, with jitter."),
                            "retryCap", key(Kind.DURATION, "5m", "Longest retry delay."),
                            "maxAttempts",
                                    key(
                                            Kind.POSITIVE_INT,
                                            "20",
                                            "After this many failed attempts a batch becomes a dead letter."),
                            "maxRetryAge", key(Kind.DURATION, "24h", "... or once its first attempt is this old."),
                            "doneRetention",
                                    key(Kind.DURATION, "1h", "Delivered batch rows are pruned after this long."),
                            "pruneInterval",
                                    key(
                                            Kind.DURATION,
                                            "30s",
                                            "How often a worker prunes delivered batch rows and expired dead letters.")));

    private ConfigSchema() {}

    private static Section retrySection() {
        return section(
                "base", key(Kind.DURATION, "1s", "First retry delay; doubles per attempt, with jitter."),
                "cap", key(Kind.DURATION, "5m", "Longest retry delay."),
                "maxAge",
                        key(
                                Kind.DURATION,
                                "4h",
                                "After this long since the first failure, events become dead letters."),
                "maxAttempts", key(Kind.POSITIVE_INT, "20", "... or after this many attempts."));
    }

    static Key key(Kind kind, String defaultValue, String doc) {
        return new Key(kind, defaultValue, doc, false);
    }

    static Key secret(Kind kind, String defaultValue, String doc) {
        return new Key(kind, defaultValue, doc, true);
    }

    static Section section(Object... namesAndNodes) {
        Map<String, Node> children = new LinkedHashMap<>();
        for (int i = 0; i < namesAndNodes.length; i += 2) {
            children.put((String) namesAndNodes[i], (Node) namesAndNodes[i + 1]);
        }
        return new Section(children);
    }

    /** One line per key: path, type, default and doc. Printed by {@code sluice config --keys}. */
    public static String describeKeys() {
        StringBuilder out = new StringBuilder();
        describe(ROOT, "", out);
        return out.toString();
    }

    private static void describe(Section section, String prefix, StringBuilder out) {
        section.children().forEach((name, node) -> {
            String path = prefix + name;
            switch (node) {
                case Key k ->
                    out.append(String.format(
                            "%-28s %s; default: %s. %s%n",
                            path,
                            k.kind().description,
                            k.defaultValue() == null ? "(required)" : "'" + k.defaultValue() + "'",
                            k.doc()));
                case Section s -> describe(s, path + ".", out);
                case Opaque o -> out.append(String.format("%-28s a mapping; optional. %s%n", path, o.doc()));
                case ListOf l -> {
                    out.append(String.format("%-28s %s%n", path + "[]", l.doc()));
                    describe(l.element(), path + "[].", out);
                    l.variants().forEach((type, variant) -> describe(variant, path + "[type=" + type + "].", out));
                }
            }
        });
    }
}
