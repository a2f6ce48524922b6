package io.sluice.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig.KafkaSettings;
import io.sluice.support.TestKafka;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/** Replication of the topics Sluice creates, and the refusal of an events topic less durable than configured (real broker). */
class TopicSetupTest {
    final String bootstrap = TestKafka.bootstrapServers();
    final KafkaClients clients = TestKafka.clients();

    @Test
    void autoOnASingleBrokerCreatesEveryTopicWithOneReplicaAndMinIsrOne() throws Exception {
        KafkaSettings kafka = settings("", "events-" + UUID.randomUUID());
        TopicSetup.events(clients, kafka);
        TopicSetup.control(clients, kafka);
        TopicSetup.violations(clients, kafka);
        try (Admin admin = admin()) {
            for (String topic : List.of(kafka.eventsTopic(), kafka.controlTopic(), kafka.violationsTopic())) {
                var partitions = admin.describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(10, TimeUnit.SECONDS)
                        .get(topic)
                        .partitions();
                assertThat(partitions).allSatisfy(p -> assertThat(p.replicas()).hasSize(1));
                assertThat(config(admin, topic, "min.insync.replicas")).isEqualTo("1");
            }
            assertThat(config(admin, kafka.controlTopic(), "cleanup.policy")).isEqualTo("compact");
        }
    }

    @Test
    void aReplicationFactorAboveTheBrokerCountStopsStartUpNamingTheKey() {
        KafkaSettings kafka = settings("replicationFactor: 3, minInsyncReplicas: 2", "events-" + UUID.randomUUID());
        assertThatThrownBy(() -> TopicSetup.events(clients, kafka))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(
                        "kafka.replicationFactor: is 3, but the Kafka cluster at " + bootstrap + " has 1 broker(s)");
    }

    @Test
    void anExistingEventsTopicWithALowerMinIsrThanConfiguredIsRefused() throws Exception {
        String topic = "events-" + UUID.randomUUID();
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(2), Optional.empty())
                            .configs(Map.of("min.insync.replicas", "1"))))
                    .all()
                    .get(10, TimeUnit.SECONDS);
        }
        assertThatThrownBy(() -> TopicSetup.events(clients, settings("minInsyncReplicas: 2", topic)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.minInsyncReplicas: is 2, but the existing events topic " + topic
                        + " has min.insync.replicas=1")
                .hasMessageContaining("--add-config min.insync.replicas=2");
        assertThatThrownBy(
                        () -> TopicSetup.events(clients, settings("replicationFactor: 2, minInsyncReplicas: 1", topic)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.replicationFactor: is 2, but the existing events topic " + topic
                        + " has partitions with only 1 replica(s)");
        TopicSetup.events(
                clients,
                settings("replicationFactor: 1, minInsyncReplicas: 1", topic)); // as durable as configured: runs
    }

    @Test
    void minIsrAboveTheReplicationFactorIsABadConfiguration() {
        assertThatThrownBy(() -> settings("replicationFactor: 2, minInsyncReplicas: 3", "t"))
                .hasMessage(
                        "Invalid configuration: kafka.minInsyncReplicas: is 3, above kafka.replicationFactor=2: no write could ever be acknowledged");
        assertThatThrownBy(() -> settings("replicationFactor: none", "t"))
                .hasMessageContaining("kafka.replicationFactor");
    }

    @Test
    void autoResolvesToThreeAndTwoOnLargerClusters() {
        KafkaSettings auto = settings("", "t");
        assertThat(TopicSetup.resolve(auto, 5)).isEqualTo(new TopicSetup.Replication(3, 2));
        assertThat(TopicSetup.resolve(auto, 2)).isEqualTo(new TopicSetup.Replication(2, 1));
        assertThat(TopicSetup.resolve(settings("replicationFactor: 5", "t"), 5))
                .isEqualTo(new TopicSetup.Replication(5, 4));
    }

    private KafkaSettings settings(String extra, String topic) {
        String id = UUID.randomUUID().toString();
        return new ConfigLoader(Map.of())
                .loadYaml("""
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 2, controlTopic: control-%s, violationsTopic: violations-%s%s}
                sources: [{id: web, writeKey: wk}]
                """.formatted(bootstrap, topic, id, id, extra.isEmpty() ? "" : ", " + extra))
                .kafka();
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    private static String config(Admin admin, String topic, String name) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource))
                .all()
                .get(10, TimeUnit.SECONDS)
                .get(resource)
                .get(name)
                .value();
    }
}
