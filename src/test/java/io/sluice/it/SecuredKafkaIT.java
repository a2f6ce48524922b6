package io.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.cli.SluiceCli;
import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Configuration;
import io.sluice.runtime.Sluice;
import io.sluice.support.CountingReceiver;
import io.sluice.support.Http;
import io.sluice.support.SecuredBroker;
import io.sluice.support.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sluice against a real broker process that only accepts secured clients: SASL_SSL with a SCRAM-SHA-512 user, and
 * mutual TLS. Nothing but {@code kafka.clientProperties} (and a Kafka destination's {@code clientProperties}) tells
 * Sluice how to connect; every client it builds — topic set-up, collector, planner, violation writer, control topic,
 * worker reader, console, readiness, the destination's producer — has to use them for events to arrive. Wrong
 * credentials, or a user the cluster's ACLs allow nothing, stop startup with one configuration error naming the key.
 */
class SecuredKafkaIT {
    private static final String PASSWORD = "scram-" + UUID.randomUUID();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static SecuredBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = SecuredBroker.start(dir);
        broker.addUser(SecuredBroker.SUPER_USER, PASSWORD);
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) broker.close();
    }

    @Test
    void saslSslWithScramCarriesEventsFromCollectorToWebhookAndMirrorTopic() throws Exception {
        pipeline(broker.saslSslServers(), broker.saslSsl(SecuredBroker.SUPER_USER, PASSWORD));
    }

    @Test
    void mutualTlsCarriesEventsFromCollectorToWebhookAndMirrorTopic() throws Exception {
        pipeline(broker.sslServers(), broker.mutualTls());
    }

    @Test
    void aWrongPasswordStopsStartupWithOneMessageNamingTheClientProperties() throws Exception {
        String wrong = "wrong-" + UUID.randomUUID();
        Path file = dir.resolve("wrong-password.yaml");
        Files.writeString(
                file, yaml(broker.saslSslServers(), broker.saslSsl(SecuredBroker.SUPER_USER, wrong), null, null, "x"));

        SluiceConfig config = Configuration.check(new io.sluice.config.ConfigLoader(Map.of()).load(file));
        try (Sluice sluice = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC())) {
            assertThatThrownBy(sluice::start)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("Invalid configuration: kafka.clientProperties: the Kafka cluster at "
                            + broker.saslSslServers() + " refused to authenticate Sluice (SaslAuthenticationException");
        }

        for (List<String> command : List.of(List.of("collector"), List.of("db", "status"))) {
            Output out = cli(command, file);
            assertThat(out.code).as("%s: %s", command, out.err).isEqualTo(2);
            assertThat(out.err.lines().filter(line -> line.startsWith("Invalid configuration:")))
                    .as(command + " prints one message: " + out.err)
                    .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                    .startsWith("Invalid configuration: kafka.clientProperties: the Kafka cluster at ");
            assertThat(out.err)
                    .as("no stack trace, no secret")
                    .doesNotContain("\tat ")
                    .doesNotContain(wrong);
        }
    }

    @Test
    void aUserWithoutPermissionsStopsStartupWithOneMessageNamingTheClientProperties() throws Exception {
        broker.addUser("stranger", PASSWORD);
        Path file = dir.resolve("stranger.yaml");
        Files.writeString(file, yaml(broker.saslSslServers(), broker.saslSsl("stranger", PASSWORD), null, null, "z"));
        SluiceConfig config = Configuration.check(new io.sluice.config.ConfigLoader(Map.of()).load(file));
        try (Sluice sluice = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC())) {
            assertThatThrownBy(sluice::start)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("Invalid configuration: kafka.clientProperties: the Kafka cluster at "
                            + broker.saslSslServers() + " does not authorize Sluice's principal");
        }
    }

    @Test
    void theEffectiveConfigurationNeverShowsTheSecrets() throws Exception {
        Path file = dir.resolve("shown.yaml");
        Files.writeString(
                file,
                yaml(broker.saslSslServers(), broker.saslSsl(SecuredBroker.SUPER_USER, PASSWORD), null, null, "y"));
        Output out = cli(List.of("config"), file);
        assertThat(out.code).as(out.err).isZero();
        assertThat(out.out).contains("kafka.clientProperties").doesNotContain(PASSWORD);
        assertThat(out.out).doesNotContain(SecuredBroker.STORE_PASSWORD);
        SluiceConfig config = new io.sluice.config.ConfigLoader(Map.of()).load(file);
        assertThat(config.effective() + config + config.kafka()).doesNotContain(PASSWORD);
    }

    private void pipeline(String servers, Map<String, String> clientProperties) throws Exception {
        String mirror = "mirror-" + UUID.randomUUID();
        try (Admin admin = Admin.create(withServers(servers, clientProperties))) {
            admin.createTopics(List.of(new NewTopic(mirror, Optional.of(1), Optional.empty())))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        try (CountingReceiver receiver = new CountingReceiver()) {
            String id = UUID.randomUUID().toString().substring(0, 8);
            SluiceConfig config = Configuration.check(new io.sluice.config.ConfigLoader(Map.of())
                    .loadYaml(yaml(servers, clientProperties, receiver.url(), mirror, id)));
            try (Sluice sluice = new Sluice(config, EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC())) {
                sluice.start();
                StringBuilder batch = new StringBuilder("{\"batch\":[");
                for (int i = 0; i < 20; i++) {
                    if (i > 0) batch.append(',');
                    batch.append("{\"type\":\"track\",\"event\":\"Secured\",\"userId\":\"u")
                            .append(i % 3)
                            .append("\",\"messageId\":\"m")
                            .append(i)
                            .append("\"}");
                }
                batch.append("]}");
                var response = Http.post(
                        sluice.collectorUrl() + "/v1/batch",
                        batch.toString(),
                        "Authorization",
                        Http.basic("wk_secured_0123456789"),
                        "Content-Type",
                        "application/json");
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> receiver.accepted().size() == 20);
                assertThat(receiver.accepted()).containsKeys("m0", "m19");
                assertThat(mirrored(servers, clientProperties, mirror, 20))
                        .as("every event reached the mirror topic through the destination's own client properties")
                        .hasSize(20);
                assertThat(Http.get(sluice.adminUrl() + "/ready").statusCode())
                        .as("readiness asks the secured cluster too")
                        .isEqualTo(200);
            }
        }
    }

    /** messageIds in the mirror topic, read by a consumer of the test's own with the same client properties. */
    private static List<String> mirrored(String servers, Map<String, String> clientProperties, String topic, int n) {
        Map<String, Object> config = withServers(servers, clientProperties);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> ids = new java.util.ArrayList<>();
        try (var consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.seekToBeginning(List.of(new TopicPartition(topic, 0)));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    ids.add(JSON.readTree(record.value()).path("messageId").asText());
                }
                return ids.size() >= n;
            });
        }
        return ids;
    }

    private static Map<String, Object> withServers(String servers, Map<String, String> clientProperties) {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put("bootstrap.servers", servers);
        return config;
    }

    private static String yaml(
            String servers, Map<String, String> clientProperties, String webhook, String mirror, String id) {
        StringBuilder properties = new StringBuilder();
        clientProperties.forEach((k, v) -> properties
                .append("      ")
                .append(k)
                .append(": '")
                .append(v.replace("'", "''"))
                .append("'\n"));
        String destinations = webhook == null
                ? "destinations: [{id: hooks, type: webhook, url: \"http://127.0.0.1:1/hook\"}]\n"
                        + "syncs: [{id: web-to-hooks, source: web, destination: hooks}]\n"
                : """
                destinations:
                  - {id: hooks, type: webhook, url: "%s"}
                  - id: mirror
                    type: kafka
                    bootstrapServers: "%s"
                    topic: %s
                    clientProperties:
                %s
                syncs:
                  - {id: web-to-hooks, source: web, destination: hooks, batch: {maxEvents: 50, maxAge: 200ms}}
                  - {id: web-to-mirror, source: web, destination: mirror, batch: {maxEvents: 50, maxAge: 200ms}}
                """.formatted(webhook, servers, mirror, properties.toString().replace("      ", "          "));
        return """
                kafka:
                  bootstrapServers: "%s"
                  eventsTopic: secured-%s
                  partitions: 2
                  controlTopic: secured-control-%s
                  violationsTopic: secured-violations-%s
                  clientProperties:
                %s
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_secured_0123456789}]
                %s
                planner: {groupId: secured-%s}
                worker: {pollInterval: 50ms}
                """.formatted(
                        servers,
                        id,
                        id,
                        id,
                        properties.toString().stripTrailing().replace("\n", "\n"),
                        webhook == null ? "jdbc:postgresql://127.0.0.1:1/none" : TestPostgres.createDatabase("queue"),
                        destinations.stripTrailing(),
                        id);
    }

    private record Output(int code, String out, String err) {}

    private static Output cli(List<String> command, Path file) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            String[] args = new String[command.size() + 2];
            for (int i = 0; i < command.size(); i++) args[i] = command.get(i);
            args[command.size()] = "--config";
            args[command.size() + 1] = file.toString();
            code = SluiceCli.run(args);
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        return new Output(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
