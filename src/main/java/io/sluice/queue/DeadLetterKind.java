package io.sluice.queue;

import java.util.Locale;

/** Why an event became a dead letter; stored in {@code dead_letters.kind}. */
public enum DeadLetterKind {
    /** The destination refused the event permanently, or its retries ran out. Replay delivers it again. */
    DELIVERY,
    /** The sync's function threw or timed out on it. Replay runs the sync's current function again first. */
    FUNCTION;

    /** The column value. */
    public String column() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DeadLetterKind fromColumn(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT));
    }
}
