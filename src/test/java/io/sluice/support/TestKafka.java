package io.sluice.support;

import io.sluice.embedded.EmbeddedKafka;
import io.sluice.kafka.KafkaClients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One real embedded Kafka broker shared by every test in the JVM: started on first use, stopped by the
 * {@link SharedServers} extension when JUnit ends the run.
 */
public final class TestKafka {
    private static EmbeddedKafka broker;

    private TestKafka() {}

    public static synchronized String bootstrapServers() {
        if (broker == null) {
            broker = new EmbeddedKafka(tempDir("sluice-test-kafka"), 0);
            broker.start();
        }
        return broker.bootstrapServers();
    }

    /** The shared broker's client factory (plaintext, no client properties). */
    public static KafkaClients clients() {
        return KafkaClients.plain(bootstrapServers());
    }

    /** Stops the shared broker (started again on next use); called by {@link SharedServers} when JUnit ends the run. */
    static synchronized void closeShared() {
        if (broker == null) return;
        broker.close();
        broker = null;
    }

    public static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
