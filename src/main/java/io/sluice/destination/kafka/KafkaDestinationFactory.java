package io.sluice.destination.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationFactory;
import io.sluice.destination.OwnInfrastructure;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Type {@code kafka}: forwards events to a topic of the same or another Kafka cluster (docs/webhooks.md, "Kafka
 * destination"). Keys: {@code bootstrapServers} ('embedded' or 'same': Sluice's own
 * cluster), {@code topic} (must exist, or the cluster must create topics automatically), {@code markerTopic} (the
 * compacted topic of delivery markers, created if missing) and {@code producer}, extra producer settings merged over
 * Sluice's. The producers are always transactional (ids per sync and partition, set by Sluice) with {@code acks=all}.
 */
public final class KafkaDestinationFactory implements DestinationFactory {
    /** Settings that make the delivery guarantees (or that Sluice sets from other keys); extras may not change them. */
    static final Set<String> FIXED = Set.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            ProducerConfig.ACKS_CONFIG,
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.TRANSACTIONAL_ID_CONFIG);

    @Override
    public void validate(DestinationSettings settings) {
        String servers = settings.string("bootstrapServers");
        if (servers == null || servers.isBlank()) throw invalid(settings, "bootstrapServers", "is required");
        String topic = settings.string("topic");
        if (topic == null || topic.isBlank()) throw invalid(settings, "topic", "is required");
        if (!topic.matches("[a-zA-Z0-9._-]{1,249}"))
            throw invalid(settings, "topic", "'" + topic + "' is not a valid Kafka topic name");
        String markers = markerTopic(settings);
        if (!markers.matches("[a-zA-Z0-9._-]{1,249}"))
            throw invalid(settings, "markerTopic", "'" + markers + "' is not a valid Kafka topic name");
        if (markers.equals(topic)) throw invalid(settings, "markerTopic", "must not be the destination's topic");
        Map<String, Object> config = producerConfig(settings, isResolved(servers) ? servers : "localhost:9092");
        try {
            new ProducerConfig(config); // checks every value's type and range; no I/O
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw invalid(settings, "producer", e.getMessage());
        }
    }

    @Override
    public Destination create(DestinationSettings settings, OwnInfrastructure own) {
        String servers = settings.string("bootstrapServers");
        if (isResolved(servers) || own.kafkaBootstrapServers() == null) return create(settings);
        return new KafkaDestination(
                settings.id(),
                settings.string("topic"),
                markerTopic(settings),
                producerConfig(settings, own.kafkaBootstrapServers()));
    }

    @Override
    public Destination create(DestinationSettings settings) {
        String servers = settings.string("bootstrapServers");
        if (!isResolved(servers)) {
            throw invalid(
                    settings,
                    "bootstrapServers",
                    "'" + servers + "' needs to know this deployment's own Kafka cluster");
        }
        return new KafkaDestination(
                settings.id(), settings.string("topic"), markerTopic(settings), producerConfig(settings, servers));
    }

    private static String markerTopic(DestinationSettings settings) {
        String topic = settings.string("markerTopic");
        return topic == null ? "sluice.delivery-markers" : topic;
    }

    private static boolean isResolved(String servers) {
        return !servers.equals(SluiceConfig.EMBEDDED) && !servers.equals("same");
    }

    /** Sluice's producer settings with the configured extras merged in. */
    static Map<String, Object> producerConfig(DestinationSettings settings, String bootstrapServers) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-destination-" + settings.id());
        // Kafka's defaults (30 s per request, 120 s per record) hold a batch that long on a link that went silent
        // without closing; these end a stuck send well inside a lease, and the batch is retried (docs/reliability.md).
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "8000");
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
        // initTransactions and commitTransaction wait this long for the transaction coordinator (default 60 s).
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "20000");
        Object extra = settings.opaque("producer");
        if (extra != null) {
            if (!(extra instanceof JsonNode node) || !(node.isObject() || node.isNull())) {
                throw invalid(settings, "producer", "must be a mapping of producer setting names to values");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                if (FIXED.contains(entry.getKey())) {
                    throw invalid(
                            settings,
                            "producer." + entry.getKey(),
                            "is fixed by Sluice (transactional producer, acks=all)");
                }
                if (!entry.getValue().isValueNode() || entry.getValue().isNull()) {
                    throw invalid(settings, "producer." + entry.getKey(), "must be a single value");
                }
                config.put(entry.getKey(), entry.getValue().asText());
            }
        }
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return Map.copyOf(config);
    }

    private static ConfigException invalid(DestinationSettings settings, String key, String problem) {
        return new ConfigException("destination '" + settings.id() + "' " + key, problem);
    }
}
