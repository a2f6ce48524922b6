package io.sluice.runtime;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.contract.Contracts;
import io.sluice.kafka.KafkaClients;
import java.nio.file.Path;

/**
 * The one configuration step of every command: read and validate the file ({@link ConfigLoader}: keys, types,
 * references, then the keys checked against each other), then what only the stages can judge — Kafka client properties, every destination
 * type's own settings record and every source's tracking plan. {@code sluice config} and {@code sluice start} therefore accept and refuse exactly the same files, and a
 * bad destination stops startup with one message naming its key instead of failing at worker start.
 */
public final class Configuration {
    private Configuration() {}

    /** @param file the {@code --config} file, or null for ./sluice.yaml if present, else the standalone defaults */
    public static SluiceConfig load(Path file) {
        return check(ConfigLoader.fromEnvironment().load(file));
    }

    /** Checks what the config loader cannot; returns the same, unchanged config. */
    public static SluiceConfig check(SluiceConfig config) {
        KafkaClients.validate(config.kafka().clientProperties(), KafkaClients.KEY);
        DestinationRegistry.validate(config);
        Contracts.from(config);
        return config;
    }
}
