package io.sluice.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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
        String origin,
        String effective) {

    public static final String EMBEDDED = "embedded";

    public record KafkaSettings(String bootstrapServers, String eventsTopic, int partitions, int embeddedPort) {
        public boolean embedded() {
            return EMBEDDED.equals(bootstrapServers);
        }
    }

    public record PostgresSettings(String url, String user, String password, int embeddedPort, int maxPoolSize) {
        public boolean embedded() {
            return EMBEDDED.equals(url);
        }
    }

    public record CollectorSettings(String host, int port, List<Cidr> trustedProxies, long maxRequestSize,
                                    long maxEventSize, int maxBatchEvents, long maxInFlightBytes, Duration ackTimeout) {}

    public record AdminSettings(String host, int port) {}

    public record SourceSettings(String id, String writeKey) {
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
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }

    static SluiceConfig from(ConfigLoader.ConfigValues v, String origin) {
        List<SourceSettings> sources = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<String> keys = new HashSet<>();
        for (String p : v.lists.get("sources")) {
            SourceSettings source = new SourceSettings(v.get(p + "id"), v.get(p + "writeKey"));
            if (!ids.add(source.id())) throw new ConfigException(p + "id", "duplicate source id '" + source.id() + "'");
            if (!keys.add(source.writeKey())) throw new ConfigException(p + "writeKey", "the same write key is used by two sources");
            sources.add(source);
        }
        long maxRequest = v.<Long>get("collector.maxRequestSize");
        long maxInFlight = v.<Long>get("collector.maxInFlightBytes");
        if (maxInFlight < maxRequest) {
            throw new ConfigException("collector.maxInFlightBytes", "must be at least collector.maxRequestSize (" + maxRequest + " bytes)");
        }
        if (v.<Long>get("collector.maxEventSize") > maxRequest) {
            throw new ConfigException("collector.maxEventSize", "must not exceed collector.maxRequestSize");
        }
        return new SluiceConfig(
                Path.of(v.<String>get("dataDir")),
                new KafkaSettings(v.get("kafka.bootstrapServers"), v.get("kafka.eventsTopic"), v.get("kafka.partitions"),
                        v.get("kafka.embeddedPort")),
                new PostgresSettings(v.get("postgres.url"), v.get("postgres.user"), v.get("postgres.password"),
                        v.get("postgres.embeddedPort"), v.get("postgres.maxPoolSize")),
                new CollectorSettings(v.get("collector.host"), v.get("collector.port"), v.get("collector.trustedProxies"),
                        maxRequest, v.get("collector.maxEventSize"), v.get("collector.maxBatchEvents"), maxInFlight,
                        v.get("collector.ackTimeout")),
                new AdminSettings(v.get("admin.host"), v.get("admin.port")),
                List.copyOf(sources),
                origin,
                v.describe());
    }

    @Override
    public String toString() {
        return "SluiceConfig[" + effective + "]";
    }
}
