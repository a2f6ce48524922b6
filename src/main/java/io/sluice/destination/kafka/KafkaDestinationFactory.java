package io.sluice.destination.kafka;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.destination.DestinationFactory;
import io.sluice.kafka.KafkaClients;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Type {@code kafka}: forwards events to a topic of the same or another Kafka cluster (docs/webhooks.md, "Kafka
 * destination"). Keys: {@code bootstrapServers} ('embedded' or 'same': Sluice's own
 * cluster), {@code topic} (must exist, or the cluster must create topics automatically), {@code markerTopic} (the
 * compacted topic of delivery markers, created if missing), {@code producer}, extra producer settings merged over
 * Sluice's, and {@code clientProperties}, the target cluster's client settings (TLS, SASL) checked like
 * {@code kafka.clientProperties}. Its clients are built by {@link KafkaClients}; the producers are always
 * transactional (ids per sync and partition, set by Sluice) with {@code acks=all}.
 */
public final class KafkaDestinationFactory implements DestinationFactory<DestinationSettings.Kafka> {
    /** Settings that make the delivery guarantees (or that Sluice sets from other keys); extras may not change them. */
    static final Set<String> FIXED = Set.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            ProducerConfig.ACKS_CONFIG,
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.TRANSACTIONAL_ID_CONFIG);

    @Override
    public void validate(DestinationSettings.Kafka settings) {
        String topic = settings.topic();
        if (!topic.matches("[a-zA-Z0-9._-]{1,249}"))
            throw invalid(settings, "topic", "'" + topic + "' is not a valid Kafka topic name");
        String markers = settings.markerTopic();
        if (!markers.matches("[a-zA-Z0-9._-]{1,249}"))
            throw invalid(settings, "markerTopic", "'" + markers + "' is not a valid Kafka topic name");
        if (markers.equals(topic)) throw invalid(settings, "markerTopic", "must not be the destination's topic");
        KafkaClients.validate(settings.clientProperties(), clientPropertiesKey(settings));
        String servers = settings.bootstrapServers();
        Map<String, Object> config = producerConfig(settings, isResolved(servers) ? servers : "localhost:9092");
        ProducerConfig checked;
        try {
            checked = new ProducerConfig(config); // checks every value's type and range; no I/O
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw invalid(settings, "producer", e.getMessage());
        }
        // KafkaProducer refuses this pair only when the worker builds it; refused here naming the key instead.
        long delivery = checked.getInt(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
        long floor = checked.getLong(ProducerConfig.LINGER_MS_CONFIG)
                + checked.getInt(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG);
        if (delivery < floor) {
            throw invalid(
                    settings,
                    "producer." + ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                    "is " + delivery + ", below producer." + ProducerConfig.LINGER_MS_CONFIG + " + producer."
                            + ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG + " (" + floor + " ms)");
        }
    }

    @Override
    public Destination create(DestinationSettings.Kafka settings, DestinationContext context) {
        String servers = settings.bootstrapServers();
        KafkaClients clients;
        if (isResolved(servers)) {
            clients = new KafkaClients(servers, settings.clientProperties(), clientPropertiesKey(settings));
        } else {
            KafkaClients own = context.own().kafka();
            if (own == null) {
                throw invalid(
                        settings,
                        "bootstrapServers",
                        "'" + servers + "' needs to know this deployment's own Kafka cluster");
            }
            clients = own.with(settings.clientProperties(), clientPropertiesKey(settings));
        }
        return new KafkaDestination(
                settings.id(),
                settings.topic(),
                settings.markerTopic(),
                clients,
                producerConfig(settings, clients.bootstrapServers()));
    }

    private static String clientPropertiesKey(DestinationSettings settings) {
        return "destination '" + settings.id() + "' clientProperties";
    }

    private static boolean isResolved(String servers) {
        return !servers.equals(SluiceConfig.EMBEDDED) && !servers.equals("same");
    }

    /** Sluice's producer settings with the configured extras merged in. */
    static Map<String, Object> producerConfig(DestinationSettings.Kafka settings, String bootstrapServers) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-destination-" + settings.id());
        // Kafka's defaults (30 s per request, 120 s per record) hold a batch that long on a link that went silent
        // without closing; these end a stuck send well inside a lease, and the batch is retried (docs/reliability.md).
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "8000");
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
        // initTransactions and commitTransaction wait this long for the transaction coordinator (default 60 s).
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "20000");
        settings.producer().forEach((name, value) -> {
            if (FIXED.contains(name))
                throw invalid(settings, "producer." + name, "is fixed by Sluice (transactional producer, acks=all)");
            config.put(name, value);
        });
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return Map.copyOf(config);
    }

    private static ConfigException invalid(DestinationSettings.Kafka settings, String key, String problem) {
        return new ConfigException("destination '" + settings.id() + "' " + key, problem);
    }
}
