package io.sluice.failover;

import java.sql.SQLTransientException;

/**
 * Queue-database writes are held (writer changing, read-only answers, or an operator's {@code db pause}). Transient
 * by nature: callers back off and try again, as for any retriable database error.
 */
public final class WriteHeldException extends SQLTransientException {
    public WriteHeldException(String reason) {
        super("queue-database writes are held: " + reason, "25006");
    }
}
