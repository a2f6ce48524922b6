package io.sluice.db;

import java.sql.SQLException;

/**
 * The one door every statement that writes the queue database passes (implemented by the process's
 * {@code failover.WriteGate}). A write asks for a {@link Permit} before it touches a connection and closes it when
 * its statement or transaction is over, so the gate always knows how many writes are running; a held gate (writer
 * failover, operator pause) refuses the permit with a retriable exception.
 */
public interface WritePermits {
    /**
     * A permit for one write. {@code draining}: finishing or heartbeating work this process already holds (a claimed
     * batch or retry chain), which an operator pause lets through until the process has nothing left to finish.
     */
    Permit enter(boolean draining) throws SQLException;

    /** An admitted write; {@link #close()} once its statement or transaction finished (either way). */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    /** Permits that are never refused (tools and tests that own their database outright). */
    WritePermits OPEN = draining -> () -> {};
}
