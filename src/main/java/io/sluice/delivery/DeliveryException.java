package io.sluice.delivery;

/**
 * A delivery failure that already knows whether retrying can help. Carries the context needed to act on it
 * (sync, batch, and the offending event when there is one).
 */
public final class DeliveryException extends Exception {
    private final boolean retriable;
    private final String messageId;
    private final FailureClass failureClass;

    private DeliveryException(
            String message, Throwable cause, boolean retriable, String messageId, FailureClass failureClass) {
        super(message, cause);
        this.retriable = retriable;
        this.messageId = messageId;
        this.failureClass = failureClass;
    }

    private DeliveryException(String message, Throwable cause, boolean retriable, String messageId) {
        this(message, cause, retriable, messageId, null);
    }

    /** A failure of a known class (see {@link Failures}); whether it is retried follows from the class. */
    public static DeliveryException of(FailureClass failureClass, String message, Throwable cause) {
        return new DeliveryException(message, cause, failureClass.retriable(), null, failureClass);
    }

    /** The same failure, blamed on one event. */
    public DeliveryException forEvent(String messageId) {
        return new DeliveryException(getMessage(), getCause(), retriable, messageId, failureClass);
    }

    /** The failure class, or null where a destination does not distinguish them (then every attempt counts). */
    public FailureClass failureClass() {
        return failureClass;
    }

    /** Whether this failure uses up one of the event's or batch's attempts. */
    public boolean usesAttempt() {
        return failureClass == null || failureClass.usesAttempt();
    }

    public static DeliveryException retriable(String message, Throwable cause) {
        return new DeliveryException(message, cause, true, null);
    }

    public static DeliveryException permanent(String message, Throwable cause) {
        return new DeliveryException(message, cause, false, null);
    }

    /** A permanent failure caused by one event (e.g. a value the destination refuses). */
    public static DeliveryException permanentForEvent(String messageId, String message, Throwable cause) {
        return new DeliveryException(message, cause, false, messageId);
    }

    public boolean isRetriable() {
        return retriable;
    }

    /** The offending event's messageId, or null when the batch as a whole failed. */
    public String messageId() {
        return messageId;
    }
}
