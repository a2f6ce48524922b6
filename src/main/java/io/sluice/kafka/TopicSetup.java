package io.sluice.kafka;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig.KafkaSettings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics Sluice owns (events, control, violations) with the configured replication factor and
 * min.insync.replicas, and refuses to run on an events topic that is less durable than configured: with
 * {@code acks=all}, a 200 means "min.insync.replicas brokers hold the events", so that number is the promise.
 */
public final class TopicSetup {
    private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);
    /** Partitions of the violations topic when Sluice creates it (any existing count serves). */
    public static final int VIOLATIONS_PARTITIONS = 3;

    static final int AUTO_REPLICATION = 3;

    /** What a topic gets when Sluice creates it. */
    record Replication(int factor, int minInsyncReplicas) {}

    private TopicSetup() {}

    /** The events topic: created if missing; an existing one must be as durable as configured, else start-up stops. */
    public static void events(KafkaClients clients, KafkaSettings kafka) {
        withAdmin(clients, admin -> {
            String topic = kafka.eventsTopic();
            if (!create(
                    admin,
                    clients.bootstrapServers(),
                    kafka,
                    topic,
                    kafka.partitions(),
                    Map.of("unclean.leader.election.enable", "false"))) {
                verifyDurability(admin, clients.bootstrapServers(), kafka, topic);
            }
        });
    }

    /** The compacted single-partition control topic (db pause/resume, process reports). */
    public static void control(KafkaClients clients, KafkaSettings kafka) {
        withAdmin(
                clients,
                admin -> create(
                        admin,
                        clients.bootstrapServers(),
                        kafka,
                        kafka.controlTopic(),
                        1,
                        Map.of("cleanup.policy", "compact", "segment.ms", "600000")));
    }

    /** The violations topic; a failure is logged, not fatal (violations wait for the topic, see ViolationsTopic). */
    public static void violations(KafkaClients clients, KafkaSettings kafka) {
        try {
            withAdmin(
                    clients,
                    admin -> create(
                            admin,
                            clients.bootstrapServers(),
                            kafka,
                            kafka.violationsTopic(),
                            VIOLATIONS_PARTITIONS,
                            Map.of()));
        } catch (RuntimeException e) {
            log.warn(
                    "Could not set up the violations topic {} with the configured replication: {}",
                    kafka.violationsTopic(),
                    e.getMessage());
        }
    }

    /** The replication a new topic gets: the configured values, with 'auto' resolved against the cluster's size. */
    static Replication resolve(KafkaSettings kafka, int brokers) {
        int factor = kafka.replicationFactor() > 0
                ? kafka.replicationFactor()
                : Math.max(1, Math.min(AUTO_REPLICATION, brokers));
        int minIsr = kafka.minInsyncReplicas() > 0 ? kafka.minInsyncReplicas() : Math.max(1, factor - 1);
        return new Replication(factor, minIsr);
    }

    /** @return true when this call created the topic, false when it existed */
    private static boolean create(
            Admin admin,
            String bootstrapServers,
            KafkaSettings kafka,
            String topic,
            int partitions,
            Map<String, String> extraConfigs)
            throws Exception {
        if (admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic)) return false;
        int brokers = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size();
        Replication replication = resolve(kafka, brokers);
        if (replication.factor() > brokers) {
            throw new ConfigException(
                    "kafka.replicationFactor",
                    "is " + replication.factor() + ", but the Kafka cluster at " + bootstrapServers + " has " + brokers
                            + " broker(s); topic " + topic + " cannot be created");
        }
        if (kafka.replicationFactor() == 0 && replication.factor() < AUTO_REPLICATION && !kafka.embedded()) {
            log.warn(
                    "The Kafka cluster has {} broker(s): creating topic {} with replication factor {} (not {}); a lost broker can lose "
                            + "its events. Set kafka.replicationFactor to silence this.",
                    brokers,
                    topic,
                    replication.factor(),
                    AUTO_REPLICATION);
        }
        Map<String, String> configs = new HashMap<>(extraConfigs);
        configs.put("min.insync.replicas", String.valueOf(replication.minInsyncReplicas()));
        try {
            admin.createTopics(List.of(
                            new NewTopic(topic, Optional.of(partitions), Optional.of((short) replication.factor()))
                                    .configs(configs)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            log.info(
                    "Created topic {} with {} partition(s), replication factor {}, min.insync.replicas {}",
                    topic,
                    partitions,
                    replication.factor(),
                    replication.minInsyncReplicas());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof InvalidReplicationFactorException) {
                throw new ConfigException(
                        "kafka.replicationFactor",
                        "is " + replication.factor() + ": " + e.getCause().getMessage());
            }
            if (!(e.getCause() instanceof TopicExistsException)) throw e;
            return false; // another instance was quicker: check what it made
        }
        EventsTopic.awaitLeaders(admin, topic);
        return true;
    }

    private static void verifyDurability(Admin admin, String bootstrapServers, KafkaSettings kafka, String topic)
            throws Exception {
        TopicDescription description = admin.describeTopics(List.of(topic))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get(topic);
        int replicas = description.partitions().stream()
                .mapToInt(p -> p.replicas().size())
                .min()
                .orElse(0);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        var entry = admin.describeConfigs(List.of(resource))
                .all()
                .get(30, TimeUnit.SECONDS)
                .get(resource)
                .get("min.insync.replicas");
        int minIsr = entry == null ? 1 : Integer.parseInt(entry.value());
        if (kafka.replicationFactor() > 0 && replicas < kafka.replicationFactor()) {
            throw new ConfigException(
                    "kafka.replicationFactor",
                    "is " + kafka.replicationFactor() + ", but the existing events topic "
                            + topic + " has partitions with only " + replicas
                            + " replica(s). Add replicas (kafka-reassign-partitions.sh) or set "
                            + "kafka.replicationFactor: " + replicas + " to accept it");
        }
        if (kafka.minInsyncReplicas() > 0 && minIsr < kafka.minInsyncReplicas()) {
            throw new ConfigException(
                    "kafka.minInsyncReplicas",
                    "is " + kafka.minInsyncReplicas() + ", but the existing events topic "
                            + topic + " has min.insync.replicas=" + minIsr
                            + ", so a 200 would promise less than configured. Raise it with "
                            + "kafka-configs.sh --bootstrap-server " + bootstrapServers
                            + " --alter --entity-type topics --entity-name " + topic
                            + " --add-config min.insync.replicas=" + kafka.minInsyncReplicas()
                            + ", or lower kafka.minInsyncReplicas");
        }
        if (!kafka.embedded() && replicas >= 2 && minIsr < 2) {
            log.warn(
                    "Events topic {} has {} replicas but min.insync.replicas={}: an acknowledged event may be held by one broker only",
                    topic,
                    replicas,
                    minIsr);
        }
        log.info(
                "Events topic {}: {} partition(s), replication factor {}, min.insync.replicas {}",
                topic,
                description.partitions().size(),
                replicas,
                minIsr);
    }

    private interface AdminWork {
        void run(Admin admin) throws Exception;
    }

    /**
     * Runs topic set-up, the first thing every role asks of the cluster: refused credentials or permissions stop
     * startup as a configuration error naming {@code kafka.clientProperties} instead of failing like an outage.
     */
    private static void withAdmin(KafkaClients clients, AdminWork work) {
        try (Admin admin = clients.admin(Map.of(
                AdminClientConfig.CLIENT_ID_CONFIG,
                "sluice-setup",
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                30_000))) {
            work.run(admin);
        } catch (ConfigException e) {
            throw e;
        } catch (Exception e) {
            ConfigException refused = clients.refusal(e);
            if (refused != null) throw refused;
            throw new IllegalStateException(
                    "Could not set up Kafka topics at " + clients.bootstrapServers() + ": " + e.getMessage(), e);
        }
    }
}
