package io.sluice.failover;

import com.zaxxer.hikari.SQLExceptionOverride;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.db.QueueDatabase;
import java.time.Clock;
import java.time.Duration;

/**
 * One process's defence against writer failover: the {@link WriteGate} every queue write passes, and the HikariCP
 * override that turns writer-loss errors into "evict every connection, hold writes".
 */
public final class FailoverGuard {
    private final WriteGate gate;
    private final EvictOnWriterLoss override;

    public FailoverGuard(Clock clock, Duration holdPeriod, MeterRegistry registry) {
        this.gate = new WriteGate(clock, holdPeriod);
        this.override = new EvictOnWriterLoss(gate, registry);
    }

    public SQLExceptionOverride exceptionOverride() {
        return override;
    }

    /** Connects the override to the pool it guards, so one writer-loss error retires all its connections. */
    public void guard(QueueDatabase database) {
        override.evictAllWith(database::evictAll);
    }

    public WriteGate gate() {
        return gate;
    }
}
