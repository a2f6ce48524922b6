package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final String MINIMAL = """
            sources:
              - id: web
                writeKey: wk_1
            """;

    @Test
    void standaloneDefaultsWhenNoFileExists() {
        SluiceConfig config = new ConfigLoader(Map.of()).load(null);
        assertThat(config.kafka().embedded()).isTrue();
        assertThat(config.postgres().embedded()).isTrue();
        assertThat(config.kafka().eventsTopic()).isEqualTo("sluice.events");
        assertThat(config.kafka().partitions()).isEqualTo(8);
        assertThat(config.collector().port()).isEqualTo(8080);
        assertThat(config.admin().port()).isEqualTo(8081);
        assertThat(config.collector().maxRequestSize()).isEqualTo(500 * 1024);
        assertThat(config.collector().maxEventSize()).isEqualTo(32 * 1024);
        assertThat(config.collector().maxBatchEvents()).isEqualTo(2500);
        assertThat(config.sources())
                .singleElement()
                .satisfies(s -> assertThat(s.id()).isEqualTo("web"));
    }

    @Test
    void readsTheIssueExampleShape(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, """
                dataDir: ./data
                kafka:
                  bootstrapServers: host1:9092,host2:9092
                  eventsTopic: sluice.events
                  partitions: 8
                postgres:
                  url: jdbc:postgresql://host1:5432,host2:5432/sluice
                  user: sluice
                  password: ${SLUICE_PG_PASSWORD}
                collector:
                  port: 8080
                  trustedProxies: [10.0.0.0/8, "192.168.1.0/24"]
                admin:
                  port: 8081
                sources:
                  - id: web
                    writeKey: wk_web_example
                """);
        SluiceConfig config = new ConfigLoader(Map.of("SLUICE_PG_PASSWORD", "s3cret")).load(file);
        assertThat(config.kafka().bootstrapServers()).isEqualTo("host1:9092,host2:9092");
        assertThat(config.postgres().password()).isEqualTo("s3cret");
        assertThat(config.collector().trustedProxies())
                .extracting(Cidr::toString)
                .containsExactly("10.0.0.0/8", "192.168.1.0/24");
        assertThat(config.effective())
                .contains("postgres.password=******")
                .doesNotContain("s3cret")
                .doesNotContain("wk_web_example");
    }

    @Test
    void environmentOverridesEveryKeyIncludingListElements() {
        SluiceConfig config = new ConfigLoader(Map.of(
                        "SLUICE_KAFKA_BOOTSTRAPSERVERS", "broker:9092",
                        "SLUICE_COLLECTOR_ACKTIMEOUT", "250ms",
                        "SLUICE_SOURCES_0_WRITEKEY", "wk_from_env",
                        "SLUICE_PG_PASSWORD", "not a key, only for ${} references"))
                .loadYaml(MINIMAL);
        assertThat(config.kafka().bootstrapServers()).isEqualTo("broker:9092");
        assertThat(config.collector().ackTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.sources().get(0).writeKey()).isEqualTo("wk_from_env");
    }

    @Test
    void referencesSupportFallbacks() {
        SluiceConfig config =
                new ConfigLoader(Map.of()).loadYaml(MINIMAL + "postgres:\n  password: ${MISSING:-fallback}\n");
        assertThat(config.postgres().password()).isEqualTo("fallback");
    }

    @Test
    void unknownKeyStopsStartupNamingTheKey() {
        assertThatThrownBy(() -> new ConfigLoader(Map.of()).loadYaml(MINIMAL + "kafka:\n  bootstrapServer: x:1\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        "Invalid configuration: kafka.bootstrapServer: unknown key (did you mean 'bootstrapServers'?)");
    }

    @Test
    void badValuesStopStartupNamingTheKey() {
        assertThatThrownBy(() -> load(MINIMAL + "kafka:\n  partitions: many\n"))
                .hasMessage("Invalid configuration: kafka.partitions: must be an integer, got 'many'");
        assertThatThrownBy(() -> load(MINIMAL + "collector:\n  port: 70000\n"))
                .hasMessageContaining("collector.port: must be a TCP port");
        assertThatThrownBy(() -> load(MINIMAL + "collector:\n  ackTimeout: soon\n"))
                .hasMessageContaining("collector.ackTimeout: must be a duration");
        assertThatThrownBy(() -> load(MINIMAL + "collector:\n  trustedProxies: [not-a-cidr]\n"))
                .hasMessageContaining("collector.trustedProxies: 'not-a-cidr' is not a CIDR");
        assertThatThrownBy(() -> load(MINIMAL + "postgres:\n  url: mysql://x\n"))
                .hasMessageContaining("postgres.url: must be 'embedded' or a jdbc:postgresql:// URL");
        assertThatThrownBy(() -> load(MINIMAL + "kafka: 5\n")).hasMessageContaining("kafka: must be a mapping");
    }

    @Test
    void missingRequiredValuesAndReferencesAreNamed() {
        assertThatThrownBy(() -> load("sources:\n  - id: web\n"))
                .hasMessage("Invalid configuration: sources[0].writeKey: is required");
        assertThatThrownBy(() -> load("dataDir: /tmp\n"))
                .hasMessage("Invalid configuration: sources: at least one entry is required");
        assertThatThrownBy(() -> load(MINIMAL + "postgres:\n  password: ${NOT_SET_ANYWHERE}\n"))
                .hasMessageContaining("postgres.password: references ${NOT_SET_ANYWHERE}, which is not set");
        assertThatThrownBy(() -> load("sources:\n  - {id: web, writeKey: a}\n  - {id: web, writeKey: b}\n"))
                .hasMessageContaining("sources[1].id: duplicate source id 'web'");
    }

    @Test
    void explicitFileMustExist(@TempDir Path dir) {
        assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(dir.resolve("nope.yaml")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("does not exist");
    }

    @Test
    void everyKeyIsDocumented() {
        String keys = ConfigSchema.describeKeys();
        assertThat(keys).contains("kafka.bootstrapServers", "collector.trustedProxies", "sources[].writeKey");
        assertThat(keys.lines()).allSatisfy(line -> assertThat(line.strip()).endsWith("."));
    }

    @Test
    void theKeyTableOfTheDocsIsWhatTheSchemaPrints() throws Exception {
        assertThat(Files.readString(Path.of("docs/configuration.md")))
                .as("docs/configuration.md: paste the output of ./sluice config --keys under 'Every key'")
                .contains(ConfigSchema.describeKeys());
    }

    @Test
    void mappingsOfNamesToValuesAreTypedInTheFileAndFromTheEnvironment() {
        String hooks = MINIMAL + """
                destinations: [{id: hooks, type: webhook, url: "http://127.0.0.1:9/h", headers: {X-Team: growth, X-N: 2}}]
                """;
        var fromFile = (SluiceConfig.DestinationSettings.Webhook) load(hooks).destination("hooks");
        assertThat(fromFile.headers()).containsExactly(Map.entry("X-Team", "growth"), Map.entry("X-N", "2"));
        var fromEnvironment = (SluiceConfig.DestinationSettings.Webhook)
                new ConfigLoader(Map.of("SLUICE_DESTINATIONS_0_HEADERS", "X-Team=ops,X-Env=prod"))
                        .loadYaml(hooks)
                        .destination("hooks");
        assertThat(fromEnvironment.headers()).containsExactly(Map.entry("X-Team", "ops"), Map.entry("X-Env", "prod"));
        assertThat(load(hooks).effective()).contains("headers={...}").doesNotContain("growth");
        assertThatThrownBy(() -> load(hooks.replace("X-N: 2", "X-N: [1, 2]")))
                .hasMessage("Invalid configuration: destinations[0].headers.X-N: must be a single value");
    }

    private static SluiceConfig load(String yaml) {
        return new ConfigLoader(Map.of()).loadYaml(yaml);
    }
}
