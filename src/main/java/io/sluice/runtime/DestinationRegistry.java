package io.sluice.runtime;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.destination.DestinationFactory;
import io.sluice.destination.kafka.KafkaDestinationFactory;
import io.sluice.destination.postgres.WarehouseDestinationFactory;
import io.sluice.destination.webhook.WebhookDestinationFactory;
import java.util.Map;

/**
 * Every destination type Sluice knows: one factory per typed settings record. The switches are exhaustive over the
 * sealed {@link DestinationSettings}, so a new type does not compile until it has a factory here.
 */
public final class DestinationRegistry {
    private static final WarehouseDestinationFactory WAREHOUSE = new WarehouseDestinationFactory();
    private static final WebhookDestinationFactory WEBHOOK = new WebhookDestinationFactory();
    private static final KafkaDestinationFactory KAFKA = new KafkaDestinationFactory();
    private static final Map<String, DestinationFactory<?>> BY_TYPE = Map.of(
            DestinationSettings.Warehouse.TYPE, WAREHOUSE,
            DestinationSettings.Webhook.TYPE, WEBHOOK,
            DestinationSettings.Kafka.TYPE, KAFKA);

    private DestinationRegistry() {}

    /** The factory of a type name, as written in the file. */
    public static DestinationFactory<?> factory(String type) {
        DestinationFactory<?> factory = BY_TYPE.get(type);
        if (factory == null)
            throw new ConfigException("unknown destination type '" + type + "' (known: " + BY_TYPE.keySet() + ")");
        return factory;
    }

    /** Checks every destination's settings: part of the one configuration step of every command. */
    public static void validate(SluiceConfig config) {
        for (DestinationSettings settings : config.destinations()) validate(settings);
    }

    public static void validate(DestinationSettings settings) {
        switch (settings) {
            case DestinationSettings.Warehouse warehouse -> WAREHOUSE.validate(warehouse);
            case DestinationSettings.Webhook webhook -> WEBHOOK.validate(webhook);
            case DestinationSettings.Kafka kafka -> KAFKA.validate(kafka);
        }
    }

    /** Creates a destination (not yet opened) from validated settings; 'embedded' in them means {@code context.own()}. */
    public static Destination create(DestinationSettings settings, DestinationContext context) {
        return switch (settings) {
            case DestinationSettings.Warehouse warehouse -> WAREHOUSE.create(warehouse, context);
            case DestinationSettings.Webhook webhook -> WEBHOOK.create(webhook, context);
            case DestinationSettings.Kafka kafka -> KAFKA.create(kafka, context);
        };
    }
}
