package io.sluice.console;

import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterKind;

/**
 * A dead letter's error kind for the console's filter: {@code function} (its {@link DeadLetterKind}: the sync's
 * function threw or timed out),
 * {@code http_4xx} / {@code http_5xx} (the destination's status), else {@code other} (a timeout, a refused
 * connection, a configuration change).
 */
final class ErrorKind {
    private ErrorKind() {}

    static String of(DeadLetter letter) {
        if (letter.kind() == DeadLetterKind.FUNCTION) return "function";
        Integer status = letter.statusCode();
        if (status != null && status >= 400 && status < 500) return "http_4xx";
        if (status != null && status >= 500) return "http_5xx";
        return "other";
    }
}
