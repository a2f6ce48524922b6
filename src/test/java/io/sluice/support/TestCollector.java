package io.sluice.support;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;

/**
 * A real collector process-in-a-test: the {@code collector} role on random ports, writing to a fresh topic of
 * the shared test broker (or of the broker given). Extra YAML is appended to the collector section.
 */
public final class TestCollector implements AutoCloseable {
    public static final String WRITE_KEY = "wk_test_web";
    public static final String OTHER_WRITE_KEY = "wk_test_app";

    private final Sluice sluice;
    private final String topic;

    private TestCollector(Sluice sluice, String topic) {
        this.sluice = sluice;
        this.topic = topic;
    }

    public static TestCollector start() {
        return start(TestKafka.bootstrapServers(), "", Clock.systemUTC());
    }

    public static TestCollector start(String bootstrapServers, String extraCollectorYaml, Clock clock) {
        String topic = "test-events-" + UUID.randomUUID();
        String yaml = """
                kafka:
                  bootstrapServers: %s
                  eventsTopic: %s
                  partitions: 4
                collector:
                  host: 127.0.0.1
                  port: 0
                  ackTimeout: 3s
                %s
                admin:
                  host: 127.0.0.1
                  port: 0
                sources:
                  - id: web
                    writeKey: %s
                  - id: app
                    writeKey: %s
                """.formatted(
                bootstrapServers, topic, extraCollectorYaml.indent(2).stripTrailing(), WRITE_KEY, OTHER_WRITE_KEY);
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml(yaml);
        Sluice sluice = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, clock);
        sluice.start();
        return new TestCollector(sluice, topic);
    }

    public String url(String path) {
        return sluice.collectorUrl() + path;
    }

    public String adminUrl(String path) {
        return sluice.adminUrl() + path;
    }

    public String topic() {
        return topic;
    }

    public String bootstrapServers() {
        return sluice.bootstrapServers();
    }

    @Override
    public void close() {
        sluice.close();
    }
}
