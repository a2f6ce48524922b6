package io.sluice.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
        String effective) {

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

    /** min.insync.replicas above the replication factor could never acknowledge anything: refused here, not at the first request. */
    private static int replicationChecked(int replicationFactor, int minInsyncReplicas) {
        if (replicationFactor > 0 && minInsyncReplicas > replicationFactor) {
            throw new ConfigException(
                    "kafka.minInsyncReplicas",
                    "is " + minInsyncReplicas + ", above kafka.replicationFactor=" + replicationFactor
                            + ": no write could ever be acknowledged");
        }
        return minInsyncReplicas;
    }

    /** A free-form mapping of names to single values (Kafka client settings), as text; empty when not set. */
    public static Map<String, String> stringMap(Json mapping, String key) {
        if (mapping == null) return Map.of();
        var tree = mapping.tree();
        if (!tree.isObject()) throw new ConfigException(key, "must be a mapping of names to values");
        Map<String, String> map = new LinkedHashMap<>();
        tree.fields().forEachRemaining(entry -> {
            if (!entry.getValue().isValueNode() || entry.getValue().isNull()) {
                throw new ConfigException(key + "." + entry.getKey(), "must be a single value");
            }
            map.put(entry.getKey(), entry.getValue().asText());
        });
        return java.util.Collections.unmodifiableMap(map);
    }

    public static String sha256Hex(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }

    /** A destination: its id, type and the type's own settings by key (converted values, see ConfigSchema). */
    public record DestinationSettings(String id, String type, Map<String, Object> settings) {
        @SuppressWarnings("unchecked")
        public <T> T get(String key) {
            return (T) settings.get(key);
        }

        public String string(String key) {
            return (String) settings.get(key);
        }

        /** A free-form value ({@link Json}) as a fresh tree the caller may change; other values as they are. */
        public Object opaque(String key) {
            Object value = settings.get(key);
            return value instanceof Json json ? json.tree() : value;
        }

        @Override
        public String toString() {
            return "DestinationSettings[id=" + id + ", type=" + type + "]";
        }
    }

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
            Json settings) {
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

        public boolean hasFunction() {
            return !function.isBlank();
        }
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
            Duration pruneInterval) {}

    /** A path from the config (a function or contract file), resolved against the config file's directory. */
    public Path resolve(String path) {
        return baseDir.resolve(path).normalize();
    }

    /** The destination with this id (ids were checked at load). */
    public DestinationSettings destination(String id) {
        return destinations.stream().filter(d -> d.id().equals(id)).findFirst().orElseThrow();
    }

    static SluiceConfig from(ConfigLoader.ConfigValues v, String origin, Path baseDir) {
        List<SourceSettings> sources = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<String> keys = new HashSet<>();
        for (String p : v.lists.get("sources")) {
            SourceSettings source = new SourceSettings(v.get(p + "id"), v.get(p + "writeKey"), v.get(p + "contract"));
            if (!ids.add(source.id())) throw new ConfigException(p + "id", "duplicate source id '" + source.id() + "'");
            if (!keys.add(source.writeKey()))
                throw new ConfigException(p + "writeKey", "the same write key is used by two sources");
            sources.add(source);
        }
        long maxRequest = v.<Long>get("collector.maxRequestSize");
        long maxInFlight = v.<Long>get("collector.maxInFlightBytes");
        if (maxInFlight < maxRequest) {
            throw new ConfigException(
                    "collector.maxInFlightBytes",
                    "must be at least collector.maxRequestSize (" + maxRequest + " bytes)");
        }
        if (v.<Long>get("collector.maxEventSize") > maxRequest) {
            throw new ConfigException("collector.maxEventSize", "must not exceed collector.maxRequestSize");
        }
        List<DestinationSettings> destinations = new ArrayList<>();
        Set<String> destinationIds = new HashSet<>();
        for (String p : v.lists.get("destinations")) {
            Map<String, Object> settings = new LinkedHashMap<>();
            v.byPath.forEach((path, value) -> {
                if (path.startsWith(p) && !path.equals(p + "id") && !path.equals(p + "type") && value != null) {
                    settings.put(path.substring(p.length()), value);
                }
            });
            DestinationSettings destination =
                    new DestinationSettings(v.get(p + "id"), v.get(p + "type"), Map.copyOf(settings));
            if (!destinationIds.add(destination.id()))
                throw new ConfigException(p + "id", "duplicate destination id '" + destination.id() + "'");
            destinations.add(destination);
        }
        List<SyncSettings> syncs = new ArrayList<>();
        Set<String> syncIds = new HashSet<>();
        for (String p : v.lists.get("syncs")) {
            SyncSettings sync = new SyncSettings(
                    v.get(p + "id"),
                    v.get(p + "source"),
                    v.get(p + "destination"),
                    v.get(p + "filter.types"),
                    v.get(p + "filter.events"),
                    v.get(p + "batch.maxEvents"),
                    v.get(p + "batch.maxBytes"),
                    v.get(p + "batch.maxAge"),
                    v.get(p + "function"),
                    v.get(p + "settings"));
            if (!syncIds.add(sync.id())) throw new ConfigException(p + "id", "duplicate sync id '" + sync.id() + "'");
            if (!ids.contains(sync.source()))
                throw new ConfigException(p + "source", "no source has id '" + sync.source() + "'");
            if (!destinationIds.contains(sync.destination())) {
                throw new ConfigException(p + "destination", "no destination has id '" + sync.destination() + "'");
            }
            syncs.add(sync);
        }
        return new SluiceConfig(
                Path.of(v.<String>get("dataDir")),
                new KafkaSettings(
                        v.get("kafka.bootstrapServers"),
                        v.get("kafka.eventsTopic"),
                        v.get("kafka.partitions"),
                        v.get("kafka.embeddedPort"),
                        v.get("kafka.controlTopic"),
                        v.get("kafka.violationsTopic"),
                        v.get("kafka.replicationFactor"),
                        replicationChecked(v.get("kafka.replicationFactor"), v.get("kafka.minInsyncReplicas")),
                        stringMap(v.get("kafka.clientProperties"), "kafka.clientProperties")),
                new PostgresSettings(
                        v.get("postgres.url"),
                        v.get("postgres.user"),
                        v.get("postgres.password"),
                        v.get("postgres.embeddedPort"),
                        v.get("postgres.maxPoolSize"),
                        v.get("postgres.instances"),
                        v.get("postgres.writeHold"),
                        v.get("postgres.probeInterval"),
                        v.get("postgres.socketTimeout")),
                new CollectorSettings(
                        v.get("collector.host"),
                        v.get("collector.port"),
                        v.get("collector.trustedProxies"),
                        maxRequest,
                        v.get("collector.maxEventSize"),
                        v.get("collector.maxBatchEvents"),
                        maxInFlight,
                        v.get("collector.ackTimeout"),
                        v.get("collector.minBodyRate")),
                new AdminSettings(v.get("admin.host"), v.get("admin.port"), v.get("admin.token")),
                List.copyOf(sources),
                List.copyOf(destinations),
                List.copyOf(syncs),
                new PlannerSettings(v.get("planner.groupId"), v.get("planner.recordInterval")),
                new WorkerSettings(
                        v.get("worker.concurrency"),
                        v.get("worker.pollInterval"),
                        v.get("worker.leaseDuration"),
                        v.get("worker.heartbeatInterval"),
                        v.get("worker.retryBase"),
                        v.get("worker.retryCap"),
                        v.get("worker.maxAttempts"),
                        v.get("worker.maxRetryAge"),
                        v.get("worker.doneRetention"),
                        v.get("worker.pruneInterval")),
                new FunctionSettings(
                        v.get("functions.timeout"), v.get("functions.poolSize"), v.get("functions.reloadInterval")),
                v.get("deadLetters.retention"),
                baseDir,
                origin,
                v.describe());
    }

    @Override
    public String toString() {
        return "SluiceConfig[" + effective + "]";
    }
}
