package io.sluice.delivery;

import java.util.Objects;

/**
 * A delivery failure of a known {@link FailureClass} (never none: {@link Failures#classify} gives every failure one),
 * with the offending event when there is one. What happens next follows from the class alone.
 */
public final class DeliveryException extends Exception {
    private final String messageId;
    private final FailureClass failureClass;

    private DeliveryException(String message, Throwable cause, String messageId, FailureClass failureClass) {
        super(message, cause);
        this.messageId = messageId;
        this.failureClass = Objects.requireNonNull(failureClass, "failureClass");
    }

    /** A failure of a known class (see {@link Failures}). */
    public static DeliveryException of(FailureClass failureClass, String message, Throwable cause) {
        return new DeliveryException(message, cause, null, failureClass);
    }

    /** The same failure, blamed on one event. */
    public DeliveryException forEvent(String messageId) {
        return new DeliveryException(getMessage(), getCause(), messageId, failureClass);
    }

    public FailureClass failureClass() {
        return failureClass;
    }

    /** Whether a retry can help: the class says. */
    public boolean isRetriable() {
        return failureClass.retriable();
    }

    /** Whether this failure uses up one of the event's or batch's attempts: the class says. */
    public boolean usesAttempt() {
        return failureClass.usesAttempt();
    }

    /** The offending event's messageId, or null when the batch as a whole failed. */
    public String messageId() {
        return messageId;
    }
}
