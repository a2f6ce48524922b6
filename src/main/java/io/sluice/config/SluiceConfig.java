package io.sluice.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The validated, immutable configuration of one Sluice process. Built only by {@link ConfigLoader}; components
 * receive the part they need and never see it change.
 */
public record SluiceConfig(
        Path dataDir,
        KafkaSettings kafka,
        PostgresSettings postgres,
        CollectorSettings collector,
        AdminSettings admin,
        List<SourceSettings> sources,
        List<DestinationSettings> destinations,
        List<SyncSettings> syncs,
        PlannerSettings planner,
        WorkerSettings worker,
        FunctionSettings functions,
        Duration deadLetterRetention,
        Path baseDir,
        String origin,
        String effective,
        ArchiveSettings archive) {

    public static final String EMBEDDED = "embedded";

    /**
     * @param replicationFactor 0 for 'auto'; @param minInsyncReplicas 0 for 'auto'
     * @param clientProperties Kafka client settings (TLS, SASL) for every client of this cluster; may hold secrets
     */
    public record KafkaSettings(
            String bootstrapServers,
            String eventsTopic,
            int partitions,
            int embeddedPort,
            String controlTopic,
            String violationsTopic,
            int replicationFactor,
            int minInsyncReplicas,
            Map<String, String> clientProperties) {
        public KafkaSettings(
                String bootstrapServers,
                String eventsTopic,
                int partitions,
                int embeddedPort,
                String controlTopic,
                String violationsTopic) {
            this(
                    bootstrapServers,
                    eventsTopic,
                    partitions,
                    embeddedPort,
                    controlTopic,
                    violationsTopic,
                    0,
                    0,
                    Map.of());
        }

        @Override
        public String toString() {
            return "KafkaSettings[bootstrapServers=" + bootstrapServers + ", eventsTopic=" + eventsTopic
                    + ", clientProperties=" + clientProperties.keySet() + "]";
        }

        public boolean embedded() {
            return EMBEDDED.equals(bootstrapServers);
        }
    }

    public record PostgresSettings(
            String url,
            String user,
            String password,
            int embeddedPort,
            int maxPoolSize,
            List<String> instances,
            Duration writeHold,
            Duration probeInterval,
            Duration socketTimeout) {
        public boolean embedded() {
            return EMBEDDED.equals(url);
        }
    }

    public record CollectorSettings(
            String host,
            int port,
            List<Cidr> trustedProxies,
            long maxRequestSize,
            long maxEventSize,
            int maxBatchEvents,
            long maxInFlightBytes,
            Duration ackTimeout,
            long minBodyRate) {}

    public record AdminSettings(String host, int port, String token) {
        @Override
        public String toString() {
            return "AdminSettings[host=" + host + ", port=" + port + ", token=" + (token.isEmpty() ? "" : "******")
                    + "]";
        }
    }

    /** @param contract the source's tracking plan (a mapping, or a text node naming a file), or null */
    public record SourceSettings(String id, String writeKey, Json contract) {

        /** SHA-256 of the write key, hex: what lookups and the database use instead of the key itself. */
        public String writeKeyDigest() {
            return sha256Hex(writeKey);
        }

        @Override
        public String toString() {
            return "SourceSettings[id=" + id + ", writeKey=******]";
        }
    }

    public static String sha256Hex(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }

    /**
     * A destination: its id, and its type's own typed settings, parsed and checked once by the configuration step
     * ({@link DestinationSchema}); the worker picks a destination's factory and retry policy by its record type.
     */
    public sealed interface DestinationSettings {
        String id();

        /** The type name, as written in the file. */
        String type();

        /**
         * Type {@code postgres}: a warehouse; {@code url} 'embedded' means the embedded 'warehouse' database.
         *
         * @param columnBudget columns a table may have before new names go to its jsonb column (docs/warehouse.md)
         */
        record Warehouse(String id, String url, String user, String password, int columnBudget)
                implements DestinationSettings {
            public static final String TYPE = "postgres";

            @Override
            public String type() {
                return TYPE;
            }

            @Override
            public String toString() {
                return "Warehouse[id=" + id + ", url=" + url + ", user=" + user + "]";
            }
        }

        /**
         * Type {@code webhook} (docs/webhooks.md).
         *
         * @param mode {@code event} or {@code batch}
         * @param rateLimit "" for none, else as written ("200/s", "5000 events/s")
         */
        record Webhook(
                String id,
                String url,
                String mode,
                int maxBatchEvents,
                Map<String, String> headers,
                Duration timeout,
                String secret,
                String rateLimit,
                int maxConcurrency,
                Duration maxWait,
                boolean orderPerUser,
                RetrySettings retry,
                BreakerSettings circuitBreaker,
                String deletionUrl)
                implements DestinationSettings {
            public static final String TYPE = "webhook";

            @Override
            public String type() {
                return TYPE;
            }

            @Override
            public String toString() {
                return "Webhook[id=" + id + ", url=" + url + ", mode=" + mode + ", headers=" + headers.keySet() + "]";
            }
        }

        /**
         * Type {@code kafka}: forwards to {@code topic}; {@code bootstrapServers} 'embedded' or 'same' is Sluice's
         * own cluster.
         *
         * @param markerTopic the compacted topic of delivery markers on the target cluster (exactly once)
         * @param producer extra producer settings by Kafka's names, merged over Sluice's
         * @param clientProperties the target cluster's client settings (TLS, SASL), checked like
         *     {@code kafka.clientProperties}; may hold secrets
         */
        record Kafka(
                String id,
                String bootstrapServers,
                String topic,
                String markerTopic,
                Map<String, String> producer,
                Map<String, String> clientProperties,
                RetrySettings retry)
                implements DestinationSettings {
            public static final String TYPE = "kafka";

            @Override
            public String type() {
                return TYPE;
            }

            @Override
            public String toString() {
                return "Kafka[id=" + id + ", bootstrapServers=" + bootstrapServers + ", topic=" + topic + ", producer="
                        + producer.keySet() + ", clientProperties=" + clientProperties.keySet() + "]";
            }
        }
    }

    /** A destination's own {@code retry} section: backoff from {@code base} doubling to {@code cap}, and when to stop. */
    public record RetrySettings(Duration base, Duration cap, Duration maxAge, int maxAttempts) {}

    /** A webhook's {@code circuitBreaker} section (rates in percent of a window of requests). */
    public record BreakerSettings(
            int window, int minimumCalls, int failureRate, int errorRate, int probes, Duration coolDown) {}

    /**
     * @param function "" for none, else a .js path (relative to {@link SluiceConfig#baseDir}) or inline source
     * @param settings read-only settings for the function's context, or null
     */
    public record SyncSettings(
            String id,
            String source,
            String destination,
            List<String> filterTypes,
            List<String> filterEvents,
            int maxEvents,
            long maxBytes,
            Duration maxAge,
            String function,
            Json settings,
            StartFrom startFrom,
            FetchSettings fetch) {
        public SyncSettings(
                String id,
                String source,
                String destination,
                List<String> filterTypes,
                List<String> filterEvents,
                int maxEvents,
                long maxBytes,
                Duration maxAge,
                String function,
                Json settings) {
            this(
                    id,
                    source,
                    destination,
                    filterTypes,
                    filterEvents,
                    maxEvents,
                    maxBytes,
                    maxAge,
                    function,
                    settings,
                    StartFrom.EARLIEST,
                    FetchSettings.NONE);
        }

        public SyncSettings(
                String id,
                String source,
                String destination,
                List<String> filterTypes,
                List<String> filterEvents,
                int maxEvents,
                long maxBytes,
                Duration maxAge) {
            this(id, source, destination, filterTypes, filterEvents, maxEvents, maxBytes, maxAge, "", null);
        }

        /** Whether the sync's function may call {@code fetch} (some host is allowed). */
        public boolean hasFetch() {
            return fetch != null && !fetch.allowHosts().isEmpty();
        }

        public boolean hasFunction() {
            return !function.isBlank();
        }
    }

    /**
     * A sync's {@code fetch} section: what its function may call (docs/functions.md, "Calling services").
     *
     * @param allowHosts host or host:port entries; {@code *.example.com} matches its subdomains; empty: no fetch
     * @param allowPrivate private, loopback and link-local networks a listed host may resolve to
     * @param cacheTtl how long GET responses are cached; zero: no cache
     */
    public record FetchSettings(
            List<String> allowHosts,
            List<String> methods,
            Duration timeout,
            Duration batchTimeout,
            int concurrency,
            long maxResponseSize,
            int maxRedirects,
            List<Cidr> allowPrivate,
            Duration cacheTtl,
            int cacheMaxEntries) {
        /** No fetch at all (the default). */
        public static final FetchSettings NONE = new FetchSettings(
                List.of(),
                List.of("GET"),
                Duration.ofSeconds(2),
                Duration.ofSeconds(30),
                16,
                1024 * 1024,
                3,
                List.of(),
                Duration.ZERO,
                1000);
    }

    public record FunctionSettings(Duration timeout, int poolSize, Duration reloadInterval) {}

    public record PlannerSettings(String groupId, Duration recordInterval) {}

    public record WorkerSettings(
            int concurrency,
            Duration pollInterval,
            Duration leaseDuration,
            Duration heartbeatInterval,
            Duration retryBase,
            Duration retryCap,
            int maxAttempts,
            Duration maxRetryAge,
            Duration doneRetention,
            Duration pruneInterval,
            double backfillShare) {
        /**
         * The slots of each destination that backfill batches may hold: {@code backfillShare} of the concurrency,
         * rounded down, at least 1 (with {@code concurrency: 1} a backfill may use the only slot while no live batch
         * is due).
         */
        public int backfillSlots() {
            return Math.max(1, (int) Math.floor(concurrency * backfillShare + 1e-9));
        }
    }

    /** A path from the config (a function or contract file), resolved against the config file's directory. */
    public Path resolve(String path) {
        return baseDir.resolve(path).normalize();
    }

    /** The destination with this id (ids were checked at load). */
    public DestinationSettings destination(String id) {
        return destinations.stream().filter(d -> d.id().equals(id)).findFirst().orElseThrow();
    }

    @Override
    public String toString() {
        return "SluiceConfig[" + effective + "]";
    }
}
