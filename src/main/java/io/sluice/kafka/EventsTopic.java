package io.sluice.kafka;

import io.sluice.config.ConfigException;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates a topic when it does not exist, with the cluster's default replication; Sluice's own topics are set up
 * with the configured replication by {@link TopicSetup} first.
 */
public final class EventsTopic {
    private static final Logger log = LoggerFactory.getLogger(EventsTopic.class);

    private EventsTopic() {}

    /** The topic's retention.ms as a duration, or null when unlimited or unknown. */
    public static Duration retention(KafkaClients kafka, String topic) {
        try (Admin admin = kafka.admin(Map.of(AdminClientConfig.CLIENT_ID_CONFIG, "sluice-setup"))) {
            var resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            var entry = admin.describeConfigs(List.of(resource))
                    .all()
                    .get(30, TimeUnit.SECONDS)
                    .get(resource)
                    .get("retention.ms");
            long millis = entry == null ? -1 : Long.parseLong(entry.value());
            return millis <= 0 ? null : Duration.ofMillis(millis);
        } catch (Exception e) {
            log.warn("Could not read the retention of topic {}: {}", topic, e.toString());
            return null;
        }
    }

    /**
     * Waits until every partition of a new topic has a leader: producing before that made an idempotent producer
     * loop on OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout (seen in the benchmark), i.e. 503s.
     */
    /** Waiting for the leaders of a new topic: 100 ms apart (doubling to 1 s), for up to 30 s. */
    private static final RetryPolicy LEADER_WAIT =
            new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), Integer.MAX_VALUE, Duration.ofSeconds(30));

    private static final class NoLeaderYet extends Exception {
        NoLeaderYet() {
            super(null, null, false, false);
        }
    }

    static void awaitLeaders(Admin admin, String topic) throws Exception {
        try {
            LEADER_WAIT.call(
                    Clock.systemUTC(),
                    RetryPolicy.Sleeper.THREAD,
                    e -> e instanceof NoLeaderYet
                            // a topic this new may not be known to the broker answering yet
                            || (e instanceof ExecutionException x
                                    && x.getCause() instanceof UnknownTopicOrPartitionException),
                    attempt -> {
                        var description = admin.describeTopics(List.of(topic))
                                .allTopicNames()
                                .get(30, TimeUnit.SECONDS)
                                .get(topic);
                        if (description.partitions().stream()
                                .anyMatch(p -> p.leader() == null || p.leader().isEmpty())) throw new NoLeaderYet();
                        return null;
                    });
        } catch (NoLeaderYet | ExecutionException e) {
            log.warn("Not every partition of {} has a leader yet; producing may be retried", topic);
        }
    }

    public static void ensure(KafkaClients kafka, String topic, int partitions) {
        ensure(kafka, topic, partitions, "kafka.partitions");
    }

    /**
     * @param partitionsKey the setting {@code partitions} comes from, named in the warning when an existing topic
     *                      has another count; null for a fixed count that any existing count may replace
     */
    public static void ensure(KafkaClients kafka, String topic, int partitions, String partitionsKey) {
        try (Admin admin = kafka.admin(Map.of(
                AdminClientConfig.CLIENT_ID_CONFIG,
                "sluice-setup",
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                30_000))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            if (existing.contains(topic)) {
                int actual = admin.describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(30, TimeUnit.SECONDS)
                        .get(topic)
                        .partitions()
                        .size();
                if (actual != partitions && partitionsKey != null) {
                    log.warn(
                            "Topic {} exists with {} partitions; kafka.partitions={} only applies when Sluice creates it",
                            topic,
                            actual,
                            partitions);
                }
                return;
            }
            try {
                admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty())))
                        .all()
                        .get(30, TimeUnit.SECONDS);
                log.info("Created topic {} with {} partitions", topic, partitions);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e; // another instance was quicker
            }
            awaitLeaders(admin, topic);
        } catch (Exception e) {
            ConfigException refused = kafka.refusal(e);
            if (refused != null) throw refused;
            throw new IllegalStateException(
                    "Could not ensure Kafka topic " + topic + " exists at " + kafka.bootstrapServers() + ": "
                            + e.getMessage(),
                    e);
        }
    }
}
