package io.sluice.support;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;

/**
 * Closes the servers tests share when JUnit ends the run: {@link TestKafka}, {@link TestPostgres}, and the
 * {@link PostgresCluster} binaries (with any cluster a test left open). The servers still start on first use through
 * their static accessors; this extension only owns their end, as a resource of the root context's store, which
 * JUnit closes after the last test class (instead of JVM shutdown hooks, which ran in no defined order and outside
 * the test report).
 *
 * <p>Registered for every test class by autodetection: META-INF/services/org.junit.jupiter.api.extension.Extension
 * and {@code junit.jupiter.extensions.autodetection.enabled=true} in junit-platform.properties.
 */
public final class SharedServers implements BeforeAllCallback {
    private static final Namespace NAMESPACE = Namespace.create(SharedServers.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(Closer.class, type -> new Closer(), Closer.class);
    }

    /** Closed by JUnit with the root store (AutoCloseable values of a store are closed since JUnit 5.13). */
    private static final class Closer implements AutoCloseable {
        @Override
        public void close() {
            try {
                PostgresCluster.closeShared();
                TestPostgres.closeShared();
            } finally {
                TestKafka.closeShared();
            }
        }
    }
}
