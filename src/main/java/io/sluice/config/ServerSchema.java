package io.sluice.config;

import static io.sluice.config.Key.key;
import static io.sluice.config.Key.secret;

import io.sluice.config.ConfigSchema.Section;
import io.sluice.config.SluiceConfig.AdminSettings;
import io.sluice.config.SluiceConfig.CollectorSettings;
import io.sluice.config.SluiceConfig.FunctionSettings;
import io.sluice.config.SluiceConfig.KafkaSettings;
import io.sluice.config.SluiceConfig.PlannerSettings;
import io.sluice.config.SluiceConfig.PostgresSettings;
import io.sluice.config.SluiceConfig.WorkerSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The keys of the process itself (its Kafka, queue database, servers and roles), and the records they build. */
final class ServerSchema {
    private ServerSchema() {}

    static final Key<String> DATA_DIR = key(
            "dataDir",
            Kind.STRING,
            "./data",
            "Directory holding the embedded Kafka and PostgreSQL data; survives restarts.");

    static final class Kafka {
        static final Key<String> BOOTSTRAP_SERVERS = key(
                "bootstrapServers",
                Kind.KAFKA_SERVERS,
                "embedded",
                "'embedded' runs a single-node KRaft broker in-process; otherwise host:port,host:port of an external cluster.");
        static final Key<String> EVENTS_TOPIC = key(
                "eventsTopic",
                Kind.STRING,
                "sluice.events",
                "Topic the collector writes accepted events to; created at start if missing.");
        static final Key<Integer> PARTITIONS =
                key("partitions", Kind.POSITIVE_INT, "8", "Partition count used when Sluice creates the events topic.");
        static final Key<String> CONTROL_TOPIC = key(
                "controlTopic",
                Kind.STRING,
                "sluice.control",
                "Compacted topic for operator commands (db pause/resume) and process reports.");
        static final Key<String> VIOLATIONS_TOPIC = key(
                "violationsTopic",
                Kind.STRING,
                "sluice.violations",
                "Topic the collector publishes contract violations to; persisted into the violations table.");
        static final Key<Integer> EMBEDDED_PORT = key(
                "embeddedPort",
                Kind.PORT,
                "9092",
                "Client port of the embedded broker (its controller uses an ephemeral port).");
        static final Key<Integer> REPLICATION_FACTOR = key(
                "replicationFactor",
                Kind.REPLICAS,
                "auto",
                "Replication factor of the topics Sluice creates (events, control, violations). 'auto': 3, or the broker count of a smaller cluster (with a warning).");
        static final Key<Integer> MIN_INSYNC_REPLICAS = key(
                "minInsyncReplicas",
                Kind.REPLICAS,
                "auto",
                "min.insync.replicas of the topics Sluice creates: a 200 needs this many replicas to hold the events. 'auto': replication factor - 1 (at least 1). Start-up refuses an existing events topic with fewer replicas or a lower min.insync.replicas than set here.");
        static final Key<Map<String, String>> CLIENT_PROPERTIES = key(
                "clientProperties",
                Kind.STRING_MAP,
                "",
                "Kafka client settings for every producer, consumer and admin client Sluice builds for its own cluster (TLS, SASL: security.protocol, sasl.jaas.config, ssl.truststore.location...), a mapping of Kafka client config names to values; secrets through ${ENV_VAR}. Settings Sluice owns (bootstrap.servers, client.id, serializers, group.id, acks other than all...) are refused.");
        static final Section SECTION = Section.of(
                "kafka",
                BOOTSTRAP_SERVERS,
                EVENTS_TOPIC,
                PARTITIONS,
                CONTROL_TOPIC,
                VIOLATIONS_TOPIC,
                EMBEDDED_PORT,
                REPLICATION_FACTOR,
                MIN_INSYNC_REPLICAS,
                CLIENT_PROPERTIES);

        static KafkaSettings read(Values v) {
            return new KafkaSettings(
                    v.get(BOOTSTRAP_SERVERS),
                    v.get(EVENTS_TOPIC),
                    v.get(PARTITIONS),
                    v.get(EMBEDDED_PORT),
                    v.get(CONTROL_TOPIC),
                    v.get(VIOLATIONS_TOPIC),
                    v.get(REPLICATION_FACTOR),
                    v.get(MIN_INSYNC_REPLICAS),
                    v.get(CLIENT_PROPERTIES));
        }
    }

    static final class Postgres {
        static final Key<String> URL = key(
                "url",
                Kind.JDBC_URL,
                "embedded",
                "'embedded' runs PostgreSQL 17 from Maven-shipped binaries; otherwise a jdbc:postgresql:// URL (multi-host allowed).");
        static final Key<String> USER = key("user", Kind.STRING, "sluice", "Database user of the queue database.");
        static final Key<String> PASSWORD = secret(
                "password", Kind.OPTIONAL_STRING, "", "Database password; use ${ENV_VAR} to keep it out of the file.");
        static final Key<Integer> EMBEDDED_PORT = key(
                "embeddedPort",
                Kind.PORT,
                "5432",
                "Port of the embedded PostgreSQL server (listens on 127.0.0.1 only).");
        static final Key<Integer> MAX_POOL_SIZE =
                key("maxPoolSize", Kind.POSITIVE_INT, "10", "Maximum connections in the queue-database pool.");
        static final Key<List<String>> INSTANCES = key(
                "instances",
                Kind.STRING_LIST,
                "",
                "Optional per-instance JDBC URLs (like Aurora's instance endpoints), polled for their role to detect writer changes and split brain.");
        static final Key<Duration> WRITE_HOLD = key(
                "writeHold",
                Kind.DURATION,
                "5s",
                "After a writer change or a read-only answer, queue writes hold until the same writer was seen this long.");
        static final Key<Duration> PROBE_INTERVAL = key(
                "probeInterval",
                Kind.DURATION,
                "1s",
                "How often the endpoint and instances are asked who the writer is.");
        static final Key<Duration> SOCKET_TIMEOUT = key(
                "socketTimeout",
                Kind.DURATION,
                "10s",
                "Longest wait for the queue database to answer a statement: a black-holed server (packets dropped, sockets left open) is noticed within this, its connections evicted and writes held.");
        static final Section SECTION = Section.of(
                "postgres",
                URL,
                USER,
                PASSWORD,
                EMBEDDED_PORT,
                MAX_POOL_SIZE,
                INSTANCES,
                WRITE_HOLD,
                PROBE_INTERVAL,
                SOCKET_TIMEOUT);

        static PostgresSettings read(Values v) {
            return new PostgresSettings(
                    v.get(URL),
                    v.get(USER),
                    v.get(PASSWORD),
                    v.get(EMBEDDED_PORT),
                    v.get(MAX_POOL_SIZE),
                    v.get(INSTANCES),
                    v.get(WRITE_HOLD),
                    v.get(PROBE_INTERVAL),
                    v.get(SOCKET_TIMEOUT));
        }
    }

    static final class Collector {
        static final Key<String> HOST =
                key("host", Kind.STRING, "0.0.0.0", "Interface the collector HTTP server binds to.");
        static final Key<Integer> PORT = key("port", Kind.PORT, "8080", "Port of the Segment-compatible tracking API.");
        static final Key<List<Cidr>> TRUSTED_PROXIES = key(
                "trustedProxies",
                Kind.CIDR_LIST,
                "",
                "CIDRs of load balancers whose X-Forwarded-For header is believed for context.ip.");
        static final Key<Long> MAX_REQUEST_SIZE = key(
                "maxRequestSize",
                Kind.SIZE,
                "500KB",
                "Largest request body after decompression; larger requests get 413.");
        static final Key<Long> MAX_EVENT_SIZE = key(
                "maxEventSize",
                Kind.SIZE,
                "32KB",
                "Largest single event as stored (enriched, batch context merged); larger events get 413.");
        static final Key<Integer> MAX_BATCH_EVENTS =
                key("maxBatchEvents", Kind.POSITIVE_INT, "2500", "Most events accepted in one batch request.");
        static final Key<Long> MAX_IN_FLIGHT_BYTES = key(
                "maxInFlightBytes",
                Kind.SIZE,
                "64MB",
                "Request bytes held in memory at once (reading, validating, awaiting Kafka), at most a quarter of the heap; beyond it requests get 429.");
        static final Key<Duration> ACK_TIMEOUT = key(
                "ackTimeout",
                Kind.DURATION,
                "5s",
                "How long a request waits for Kafka to acknowledge all its events before answering 503.");
        static final Key<Long> MIN_BODY_RATE = key(
                "minBodyRate",
                Kind.SIZE,
                "1KB",
                "Slowest accepted upload, in bytes per second from a body's first byte; a slower body gets 408 and its connection is closed.");
        static final Section SECTION = Section.of(
                "collector",
                HOST,
                PORT,
                TRUSTED_PROXIES,
                MAX_REQUEST_SIZE,
                MAX_EVENT_SIZE,
                MAX_BATCH_EVENTS,
                MAX_IN_FLIGHT_BYTES,
                ACK_TIMEOUT,
                MIN_BODY_RATE);

        static CollectorSettings read(Values v) {
            return new CollectorSettings(
                    v.get(HOST),
                    v.get(PORT),
                    v.get(TRUSTED_PROXIES),
                    v.get(MAX_REQUEST_SIZE),
                    v.get(MAX_EVENT_SIZE),
                    v.get(MAX_BATCH_EVENTS),
                    v.get(MAX_IN_FLIGHT_BYTES),
                    v.get(ACK_TIMEOUT),
                    v.get(MIN_BODY_RATE));
        }
    }

    static final class Admin {
        static final Key<String> HOST = key(
                "host", Kind.STRING, "0.0.0.0", "Interface the admin server (health, readiness, metrics) binds to.");
        static final Key<Integer> PORT = key("port", Kind.PORT, "8081", "Port of the admin server.");
        static final Key<String> TOKEN = secret(
                "token",
                Kind.OPTIONAL_STRING,
                "",
                "Bearer token required by the admin API's operations (POST /admin/...); empty disables them.");
        static final Section SECTION = Section.of("admin", HOST, PORT, TOKEN);

        static AdminSettings read(Values v) {
            return new AdminSettings(v.get(HOST), v.get(PORT), v.get(TOKEN));
        }
    }

    static final class Functions {
        static final Key<Duration> TIMEOUT = key(
                "timeout",
                Kind.DURATION,
                "1s",
                "Longest a function may run for one event; then it is cancelled and the event dead-lettered.");
        static final Key<Integer> POOL_SIZE = key(
                "poolSize", Kind.POSITIVE_INT, "4", "JavaScript contexts kept per function (one per concurrent call).");
        static final Key<Duration> RELOAD_INTERVAL =
                key("reloadInterval", Kind.DURATION, "2s", "How often function files are checked for changes.");
        static final Section SECTION = Section.of("functions", TIMEOUT, POOL_SIZE, RELOAD_INTERVAL);

        static FunctionSettings read(Values v) {
            return new FunctionSettings(v.get(TIMEOUT), v.get(POOL_SIZE), v.get(RELOAD_INTERVAL));
        }
    }

    static final class DeadLetters {
        static final Key<Duration> RETENTION =
                key("retention", Kind.DURATION, "30d", "Dead letters are pruned after this long (and only then).");
        static final Section SECTION = Section.of("deadLetters", RETENTION);
    }

    static final class Planner {
        static final Key<String> GROUP_ID =
                key("groupId", Kind.STRING, "sluice-planner", "Kafka consumer group of the planners.");
        static final Key<Duration> RECORD_INTERVAL = key(
                "recordInterval",
                Kind.DURATION,
                "150ms",
                "Cut batches are written to the queue at most this often, all partitions in one transaction: shorter lowers latency, longer saves queue transactions.");
        static final Section SECTION = Section.of("planner", GROUP_ID, RECORD_INTERVAL);

        static PlannerSettings read(Values v) {
            return new PlannerSettings(v.get(GROUP_ID), v.get(RECORD_INTERVAL));
        }
    }

    static final class Worker {
        static final Key<Integer> CONCURRENCY = key(
                "concurrency",
                Kind.POSITIVE_INT,
                "8",
                "Batches one worker process delivers at the same time to each destination: every destination has this many slots of its own.");
        static final Key<Double> BACKFILL_SHARE = key(
                "backfillShare",
                Kind.FRACTION,
                "0.5",
                "Share of a destination's concurrency slots that backfill batches may hold (rounded down, at least 1); live batches always keep the rest and are claimed first.");
        static final Key<Duration> POLL_INTERVAL = key(
                "pollInterval",
                Kind.DURATION,
                "250ms",
                "Longest an idle worker waits before it looks for due batches again; newly planned batches and freed slots wake it at once.");
        static final Key<Duration> LEASE_DURATION = key(
                "leaseDuration",
                Kind.DURATION,
                "30s",
                "How long a claim lasts without a heartbeat; then other workers may take the batch.");
        static final Key<Duration> HEARTBEAT_INTERVAL = key(
                "heartbeatInterval",
                Kind.DURATION,
                "10s",
                "How often a worker extends the leases it holds; at most a third of leaseDuration, so a lease survives two late heartbeats.");
        static final Key<Duration> RETRY_BASE =
                key("retryBase", Kind.DURATION, "1s", "First retry delay; doubles per attempt, with jitter.");
        static final Key<Duration> RETRY_CAP =
                key("retryCap", Kind.DURATION, "5m", "Longest retry delay; at least retryBase.");
        static final Key<Integer> MAX_ATTEMPTS = key(
                "maxAttempts",
                Kind.POSITIVE_INT,
                "20",
                "After this many failed attempts a batch becomes a dead letter.");
        static final Key<Duration> MAX_RETRY_AGE =
                key("maxRetryAge", Kind.DURATION, "24h", "... or once its first attempt is this old.");
        static final Key<Duration> DONE_RETENTION =
                key("doneRetention", Kind.DURATION, "1h", "Delivered batch rows are pruned after this long.");
        static final Key<Duration> PRUNE_INTERVAL = key(
                "pruneInterval",
                Kind.DURATION,
                "30s",
                "How often a worker prunes delivered batch rows and expired dead letters.");
        static final Section SECTION = Section.of(
                "worker",
                CONCURRENCY,
                BACKFILL_SHARE,
                POLL_INTERVAL,
                LEASE_DURATION,
                HEARTBEAT_INTERVAL,
                RETRY_BASE,
                RETRY_CAP,
                MAX_ATTEMPTS,
                MAX_RETRY_AGE,
                DONE_RETENTION,
                PRUNE_INTERVAL);

        static WorkerSettings read(Values v) {
            return new WorkerSettings(
                    v.get(CONCURRENCY),
                    v.get(POLL_INTERVAL),
                    v.get(LEASE_DURATION),
                    v.get(HEARTBEAT_INTERVAL),
                    v.get(RETRY_BASE),
                    v.get(RETRY_CAP),
                    v.get(MAX_ATTEMPTS),
                    v.get(MAX_RETRY_AGE),
                    v.get(DONE_RETENTION),
                    v.get(PRUNE_INTERVAL),
                    v.get(BACKFILL_SHARE));
        }
    }
}
