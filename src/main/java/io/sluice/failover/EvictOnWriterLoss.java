package io.sluice.failover;

import com.zaxxer.hikari.SQLExceptionOverride;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.delivery.Failures;
import java.sql.SQLException;

/**
 * HikariCP's hook for every SQLException on a pooled connection. A writer-loss error (see
 * {@link Failures#isWriterLoss}) evicts that connection outright ({@code MUST_EVICT}: Hikari would otherwise keep
 * a connection that answers 25006), soft-evicts all others, and holds queue writes until the writer is stable.
 */
final class EvictOnWriterLoss implements SQLExceptionOverride {
    private final WriteGate gate;
    private final MeterRegistry registry;
    private volatile Runnable evictAll = () -> {};

    EvictOnWriterLoss(WriteGate gate, MeterRegistry registry) {
        this.gate = gate;
        this.registry = registry;
    }

    void evictAllWith(Runnable evictAll) {
        this.evictAll = evictAll;
    }

    @java.lang.Override
    public Override adjudicate(SQLException e) {
        String state = e.getSQLState() == null ? "none" : e.getSQLState();
        Counter.builder("sluice.db.errors")
                .description("Queue-database errors by SQLSTATE")
                .tag("sqlstate", state)
                .register(registry)
                .increment();
        if (!Failures.isWriterLoss(e.getSQLState())) return Override.CONTINUE_EVICT;
        gate.writerLost("SQLSTATE " + state + " (" + e.getMessage() + ")");
        evictAll.run();
        return Override.MUST_EVICT;
    }
}
