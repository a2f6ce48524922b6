package io.sluice.db;

import java.sql.SQLException;

/**
 * The one door every statement that writes the queue database passes (implemented by the process's
 * {@code failover.WriteGate}). A write asks for a {@link Permit} before it touches a connection and closes it when
 * its statement or transaction is over, so the gate always knows how many writes are running; a held gate (writer
 * failover, operator pause) refuses the permit with a retriable exception.
 */
public interface WritePermits {
    /** What a write is for, as the gate judges it. */
    enum Work {
        /** New work (a claim, a plan, a replay, pruning): refused while an operator pause holds. */
        NEW,
        /**
         * Finishing or heartbeating work this process already holds (a claimed batch or retry chain): an operator
         * pause lets it through until the process has nothing left to finish.
         */
        FINISHING_HELD
    }

    /** A permit for one write of the given kind of {@code work}. */
    Permit enter(Work work) throws SQLException;

    /** An admitted write; {@link #close()} once its statement or transaction finished (either way). */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    /** Permits that are never refused (tools and tests that own their database outright). */
    WritePermits OPEN = work -> () -> {};
}
