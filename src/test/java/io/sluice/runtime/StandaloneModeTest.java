package io.sluice.runtime;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.support.TestKafka;
import io.sluice.support.TopicReader;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Standalone mode embeds only what the config marks 'embedded'; the collector role never embeds anything. */
class StandaloneModeTest {

    @Test
    void externalKafkaWithEmbeddedPostgres(@TempDir Path dataDir) throws Exception {
        String topic = "standalone-" + UUID.randomUUID();
        SluiceConfig config =
                new ConfigLoader(Map.of()).loadYaml("""
                dataDir: %s
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 2}
                postgres: {url: embedded, embeddedPort: 0}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: shop, writeKey: wk_shop}]
                """.formatted(dataDir, TestKafka.bootstrapServers(), topic));
        try (Sluice sluice = Sluice.standalone(config)) {
            sluice.start();
            assertThat(sluice.bootstrapServers()).isEqualTo(TestKafka.bootstrapServers());
            assertThat(sluice.jdbcUrl()).startsWith("jdbc:postgresql://127.0.0.1:");
            assertThat(dataDir.resolve("kafka")).doesNotExist();
            assertThat(dataDir.resolve("postgres/pgdata/PG_VERSION")).exists();
            try (var db = DriverManager.getConnection(sluice.jdbcUrl(), "sluice", "");
                    var rs = db.createStatement().executeQuery("SELECT id, write_key_sha256 FROM sources")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("id")).isEqualTo("shop");
                assertThat(rs.getString("write_key_sha256"))
                        .isEqualTo(SluiceConfig.sha256Hex("wk_shop"))
                        .doesNotContain("wk_shop");
            }
            var response = post(
                    sluice.collectorUrl() + "/v1/identify",
                    "{\"userId\":\"u1\",\"traits\":{\"plan\":\"pro\"}}",
                    "Authorization",
                    basic("wk_shop"));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(TopicReader.readEvents(TestKafka.bootstrapServers(), topic, 1))
                    .singleElement()
                    .satisfies(e -> assertThat(e.get("sourceId").asText()).isEqualTo("shop"));
        }
    }

    @Test
    void collectorRoleRefusesToEmbedKafka() {
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("sources: [{id: web, writeKey: k}]");
        Sluice collectorOnly = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC());
        assertThatThrownBy(collectorOnly::start)
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.bootstrapServers: is 'embedded', but only 'sluice start' embeds Kafka");
    }
}
