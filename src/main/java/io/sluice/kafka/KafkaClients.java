package io.sluice.kafka;

import io.sluice.config.ConfigException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The one place where Sluice builds Kafka clients (ArchitectureTest enforces it): every producer, consumer and admin
 * client of one cluster starts from its bootstrap servers plus the operator's client properties (TLS, SASL,
 * networking: {@code kafka.clientProperties}, or a Kafka destination's {@code clientProperties}), and each call site
 * adds only what its role needs (acks, group id, timeouts). The role's settings win over the operator's; the
 * settings that make Sluice's guarantees cannot be given by the operator at all ({@link #validate}).
 *
 * <p>Each client gets only the operator's properties its kind knows (a consumer no {@code linger.ms}), so no client
 * logs "supplied but isn't a known config".
 */
public final class KafkaClients {
    /** The setting Sluice's own cluster's client properties come from. */
    public static final String KEY = "kafka.clientProperties";

    /** Settings Sluice sets for each client itself; an operator's value would be ignored or break a guarantee. */
    static final Map<String, String> OWNED = Map.ofEntries(
            Map.entry(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "comes from bootstrapServers"),
            Map.entry(CommonClientConfigs.CLIENT_ID_CONFIG, "Sluice names each client by its role (sluice-...)"),
            Map.entry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, "records are bytes"),
            Map.entry(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, "records are bytes"),
            Map.entry(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "records are bytes"),
            Map.entry(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "records are bytes"),
            Map.entry(ConsumerConfig.GROUP_ID_CONFIG, "comes from planner.groupId"),
            Map.entry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "replicas would share one member"),
            Map.entry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "offsets are committed after the batches are stored"),
            Map.entry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "each consumer starts where its role needs"),
            Map.entry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "each consumer reads what its role needs"),
            Map.entry(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "transactions are Sluice's to start"),
            Map.entry(ProducerConfig.PARTITIONER_CLASS_CONFIG, "a user's events share a partition by key"));

    /** Owned settings whose one safe value the operator may repeat. */
    private static final Map<String, Set<String>> ALLOWED_VALUES = Map.of(
            ProducerConfig.ACKS_CONFIG, Set.of("all", "-1"),
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Set.of("true"));

    private final String bootstrapServers;
    private final Map<String, String> properties;
    private final String key;

    /** Sluice's own cluster, with {@code kafka.clientProperties} already {@link #validate validated}. */
    public KafkaClients(String bootstrapServers, Map<String, String> clientProperties) {
        this(bootstrapServers, clientProperties, KEY);
    }

    /** @param key the setting the client properties come from, named when the cluster refuses them */
    public KafkaClients(String bootstrapServers, Map<String, String> clientProperties, String key) {
        this.bootstrapServers = bootstrapServers;
        this.properties = Map.copyOf(clientProperties);
        this.key = key;
    }

    /** A cluster reached without extra client properties (the embedded broker). */
    public static KafkaClients plain(String bootstrapServers) {
        return new KafkaClients(bootstrapServers, Map.of());
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The same client properties for another address of the same deployment (the embedded broker's, once bound). */
    public KafkaClients at(String otherBootstrapServers) {
        return new KafkaClients(otherBootstrapServers, properties, key);
    }

    /** These properties with {@code more} (from {@code moreKey}) over them: a Kafka destination on Sluice's cluster. */
    public KafkaClients with(Map<String, String> more, String moreKey) {
        if (more.isEmpty()) return this;
        Map<String, String> merged = new HashMap<>(properties);
        merged.putAll(more);
        return new KafkaClients(bootstrapServers, merged, KEY + " / " + moreKey);
    }

    public Admin admin(Map<String, Object> role) {
        return Admin.create(config(AdminClientConfig.configNames(), role));
    }

    public KafkaProducer<byte[], byte[]> producer(Map<String, Object> role) {
        return producer(role, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public <K, V> KafkaProducer<K, V> producer(
            Map<String, Object> role, Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        return new KafkaProducer<>(config(ProducerConfig.configNames(), role), keySerializer, valueSerializer);
    }

    public KafkaConsumer<byte[], byte[]> consumer(Map<String, Object> role) {
        return consumer(role, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    public <K, V> KafkaConsumer<K, V> consumer(
            Map<String, Object> role, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        return new KafkaConsumer<>(config(ConsumerConfig.configNames(), role), keyDeserializer, valueDeserializer);
    }

    /** The operator's properties this kind of client knows, the role's over them, the address last. */
    Map<String, Object> config(Set<String> known, Map<String, Object> role) {
        Map<String, Object> config = new HashMap<>();
        properties.forEach((name, value) -> {
            if (known.contains(name)) config.put(name, value);
        });
        config.putAll(role);
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return config;
    }

    /**
     * Checks client properties at the configuration step: every name a Kafka client setting, none that Sluice owns,
     * every value of the right type for each kind of client that knows it. Throws naming {@code key.<name>}.
     */
    public static void validate(Map<String, String> clientProperties, String key) {
        Set<String> known = new TreeSet<>(AdminClientConfig.configNames());
        known.addAll(ProducerConfig.configNames());
        known.addAll(ConsumerConfig.configNames());
        clientProperties.forEach((name, value) -> {
            if (!known.contains(name)) throw new ConfigException(key + "." + name, "is not a Kafka client setting");
            String owned = OWNED.get(name);
            if (owned != null) throw new ConfigException(key + "." + name, "is set by Sluice (" + owned + ")");
            Set<String> allowed = ALLOWED_VALUES.get(name);
            if (allowed != null && !allowed.contains(value.trim())) {
                throw new ConfigException(
                        key + "." + name,
                        "may only be " + allowed.iterator().next() + ": Sluice acknowledges an event once every"
                                + " in-sync replica holds it, written once");
            }
        });
        KafkaClients probe = new KafkaClients("localhost:9092", clientProperties);
        try {
            new AdminClientConfig(probe.config(AdminClientConfig.configNames(), Map.of()));
            new ProducerConfig(probe.config(
                    ProducerConfig.configNames(),
                    Map.of(
                            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class)));
            new ConsumerConfig(probe.config(
                    ConsumerConfig.configNames(),
                    Map.of(
                            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class)));
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new ConfigException(key, e.getMessage());
        }
    }

    /**
     * The configuration error behind a client failure that no retry can cure: the cluster refused the credentials
     * (SASL, TLS) or the principal's permissions. Null for any other failure.
     *
     * @param key the setting the credentials come from, named in the message
     */
    public static ConfigException refusal(Throwable failure, String bootstrapServers, String key) {
        for (Throwable e = failure; e != null; e = e.getCause()) {
            if (e instanceof AuthenticationException) {
                return new ConfigException(
                        key,
                        "the Kafka cluster at " + bootstrapServers + " refused to authenticate Sluice ("
                                + e.getClass().getSimpleName() + ": " + e.getMessage()
                                + "); check security.protocol, sasl.jaas.config and the ssl.* settings");
            }
            if (e instanceof AuthorizationException) {
                return new ConfigException(
                        key,
                        "the Kafka cluster at " + bootstrapServers + " does not authorize Sluice's principal ("
                                + e.getClass().getSimpleName() + ": " + e.getMessage()
                                + "); grant the principal access to Sluice's topics and consumer groups, or use another one");
            }
            if (e.getCause() == e) break;
        }
        return null;
    }

    /** {@link #refusal} naming the setting these client properties come from. */
    public ConfigException refusal(Throwable failure) {
        return refusal(failure, bootstrapServers, key);
    }

    @Override
    public String toString() {
        return "KafkaClients[" + bootstrapServers + ", properties=" + new TreeSet<>(properties.keySet()) + "]";
    }
}
