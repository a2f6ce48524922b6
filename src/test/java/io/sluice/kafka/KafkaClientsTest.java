package io.sluice.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Configuration;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

/** What the one client factory accepts from the operator and how it builds each client's settings (no broker). */
class KafkaClientsTest {
    static final Map<String, String> SASL_SSL = Map.of(
            "security.protocol", "SASL_SSL",
            "sasl.mechanism", "SCRAM-SHA-512",
            "sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";",
            "ssl.truststore.location", "/etc/kafka/truststore.p12",
            "ssl.truststore.password", "changeit",
            "linger.ms", "7");

    @Test
    void securityAndTuningSettingsAreAccepted() {
        assertThatCode(() -> KafkaClients.validate(SASL_SSL, KafkaClients.KEY)).doesNotThrowAnyException();
        assertThatCode(() -> KafkaClients.validate(Map.of("acks", "all", "enable.idempotence", "true"), "k"))
                .doesNotThrowAnyException();
    }

    @Test
    void anUnknownNameIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> KafkaClients.validate(Map.of("sasl.jaas.konfig", "x"), KafkaClients.KEY))
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        "Invalid configuration: kafka.clientProperties.sasl.jaas.konfig: is not a Kafka client setting");
    }

    @Test
    void settingsSluiceOwnsAreRefused() {
        for (String owned : new String[] {
            "bootstrap.servers",
            "group.id",
            "key.serializer",
            "value.deserializer",
            "client.id",
            "transactional.id",
            "enable.auto.commit",
            "auto.offset.reset"
        }) {
            assertThatThrownBy(() -> KafkaClients.validate(Map.of(owned, "x"), KafkaClients.KEY))
                    .as(owned)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith(
                            "Invalid configuration: kafka.clientProperties." + owned + ": is set by Sluice");
        }
        assertThatThrownBy(() -> KafkaClients.validate(Map.of("acks", "1"), KafkaClients.KEY))
                .hasMessageStartingWith("Invalid configuration: kafka.clientProperties.acks: may only be");
        assertThatThrownBy(() -> KafkaClients.validate(Map.of("enable.idempotence", "false"), KafkaClients.KEY))
                .hasMessageStartingWith(
                        "Invalid configuration: kafka.clientProperties.enable.idempotence: may only be");
    }

    @Test
    void aValueOfTheWrongTypeIsRefusedAtTheConfigStep() {
        assertThatThrownBy(() -> KafkaClients.validate(Map.of("security.protocol", "TLS"), KafkaClients.KEY))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.clientProperties")
                .hasMessageContaining("security.protocol");
        assertThatThrownBy(() -> KafkaClients.validate(Map.of("request.timeout.ms", "soon"), KafkaClients.KEY))
                .hasMessageContaining("request.timeout.ms");
    }

    @Test
    void theConfigurationStepChecksClientPropertiesFromTheFileWithEnvironmentExpansion() {
        var loader = new ConfigLoader(Map.of("KAFKA_PASSWORD", "s3cret-value"));
        var config = loader.loadYaml("""
                sources: [{id: web, writeKey: wk_web_test_0123456789}]
                kafka:
                  bootstrapServers: "broker:9093"
                  clientProperties:
                    security.protocol: SASL_SSL
                    sasl.mechanism: SCRAM-SHA-512
                    sasl.jaas.config: 'org.apache.kafka.common.security.scram.ScramLoginModule required username="sluice" password="${KAFKA_PASSWORD}";'
                """);
        assertThat(Configuration.check(config).kafka().clientProperties())
                .containsEntry("security.protocol", "SASL_SSL")
                .hasEntrySatisfying("sasl.jaas.config", v -> assertThat(v).contains("password=\"s3cret-value\""));
        assertThat(config.effective()).doesNotContain("s3cret-value");
        assertThat(config.toString()).doesNotContain("s3cret-value");
        assertThat(config.kafka().toString()).doesNotContain("s3cret-value");

        var bad = loader.loadYaml("""
                sources: [{id: web, writeKey: wk_web_test_0123456789}]
                kafka: {bootstrapServers: "broker:9093", clientProperties: {group.id: mine}}
                """);
        assertThatThrownBy(() -> Configuration.check(bad)).hasMessageContaining("kafka.clientProperties.group.id");
        assertThatThrownBy(() -> loader.loadYaml("""
                        sources: [{id: web, writeKey: wk_web_test_0123456789}]
                        kafka: {bootstrapServers: "broker:9093", clientProperties: {ssl.enabled.protocols: [TLSv1.3]}}
                        """))
                .hasMessageContaining("kafka.clientProperties.ssl.enabled.protocols: must be a single value");
    }

    @Test
    void eachClientGetsTheOperatorsSettingsItKnowsWithItsRolesOverThemAndTheAddressLast() {
        KafkaClients clients = new KafkaClients("broker:9093", SASL_SSL);
        Map<String, Object> producer = clients.config(
                ProducerConfig.configNames(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 5, "client.id", "sluice-x"));
        assertThat(producer)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.jaas.config", SASL_SSL.get("sasl.jaas.config"))
                .containsEntry("linger.ms", 5)
                .containsEntry("bootstrap.servers", "broker:9093");
        Map<String, Object> consumer = clients.config(ConsumerConfig.configNames(), Map.of());
        assertThat(consumer)
                .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.p12")
                .doesNotContainKey("linger.ms");
        Map<String, Object> admin = clients.config(AdminClientConfig.configNames(), Map.of());
        assertThat(admin).containsEntry("sasl.mechanism", "SCRAM-SHA-512").doesNotContainKey("linger.ms");
        assertThat(clients.toString()).doesNotContain("changeit").doesNotContain("password=");
        assertThat(clients.at("other:9093").config(AdminClientConfig.configNames(), Map.of()))
                .containsEntry("bootstrap.servers", "other:9093")
                .containsEntry("security.protocol", "SASL_SSL");
    }

    @Test
    void refusedCredentialsAndPermissionsAreConfigurationErrorsNamingTheSetting() {
        var wrapped = new IllegalStateException(
                "setup", new java.util.concurrent.ExecutionException(new SaslAuthenticationException("bad password")));
        assertThat(KafkaClients.refusal(wrapped, "b:1", KafkaClients.KEY))
                .hasMessageStartingWith(
                        "Invalid configuration: kafka.clientProperties: the Kafka cluster at b:1 refused")
                .hasMessageContaining("SaslAuthenticationException");
        assertThat(new KafkaClients("b:1", Map.of(), "destination 'm' clientProperties")
                        .refusal(new TopicAuthorizationException("no")))
                .hasMessageContaining("destination 'm' clientProperties")
                .hasMessageContaining("does not authorize");
        assertThat(KafkaClients.refusal(new org.apache.kafka.common.errors.TimeoutException("slow"), "b:1", "k"))
                .isNull();
    }
}
