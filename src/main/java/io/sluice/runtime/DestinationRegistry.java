package io.sluice.runtime;

import io.sluice.destination.Destination;
import io.sluice.destination.DestinationFactory;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig.DestinationSettings;
import java.util.Map;

/** Every destination type Sluice knows: one explicit map from type name to factory. */
public final class DestinationRegistry {
    private static final Map<String, DestinationFactory> FACTORIES = Map.of(
            "postgres", new io.sluice.destination.postgres.WarehouseDestinationFactory(),
            "webhook", new io.sluice.destination.webhook.WebhookDestinationFactory(),
            "kafka", new io.sluice.destination.kafka.KafkaDestinationFactory());

    private DestinationRegistry() {}

    public static DestinationFactory factory(String type) {
        DestinationFactory factory = FACTORIES.get(type);
        if (factory == null) throw new ConfigException("unknown destination type '" + type + "' (known: " + FACTORIES.keySet() + ")");
        return factory;
    }

    /** Validates and creates a destination (not yet opened). */
    public static Destination create(DestinationSettings settings) {
        DestinationFactory factory = factory(settings.type());
        factory.validate(settings);
        return factory.create(settings);
    }
}
