package io.sluice.runtime;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationFactory;
import io.sluice.destination.OwnInfrastructure;
import io.sluice.destination.kafka.KafkaDestinationFactory;
import io.sluice.destination.postgres.WarehouseDestinationFactory;
import io.sluice.destination.webhook.WebhookDestinationFactory;
import java.util.Map;

/** Every destination type Sluice knows: one explicit map from type name to factory. */
public final class DestinationRegistry {
    private static final Map<String, DestinationFactory> FACTORIES = Map.of(
            "postgres", new WarehouseDestinationFactory(),
            "webhook", new WebhookDestinationFactory(),
            "kafka", new KafkaDestinationFactory());

    private DestinationRegistry() {}

    public static DestinationFactory factory(String type) {
        DestinationFactory factory = FACTORIES.get(type);
        if (factory == null)
            throw new ConfigException("unknown destination type '" + type + "' (known: " + FACTORIES.keySet() + ")");
        return factory;
    }

    /** Checks every destination's settings: part of the one configuration step of every command. */
    public static void validate(SluiceConfig config) {
        for (DestinationSettings settings : config.destinations())
            factory(settings.type()).validate(settings);
    }

    /** Creates a destination (not yet opened) from validated settings; 'embedded' in them means {@code own}. */
    public static Destination create(DestinationSettings settings, OwnInfrastructure own) {
        return factory(settings.type()).create(settings, own);
    }

    /** Validates and creates a destination without embedded infrastructure (tests of one destination). */
    public static Destination create(DestinationSettings settings) {
        DestinationFactory factory = factory(settings.type());
        factory.validate(settings);
        return factory.create(settings, OwnInfrastructure.NONE);
    }
}
