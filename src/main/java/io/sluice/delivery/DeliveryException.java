package io.sluice.delivery;

/**
 * A delivery failure that already knows whether retrying can help. Carries the context needed to act on it
 * (sync, batch, and the offending event when there is one).
 */
public final class DeliveryException extends Exception {
    private final boolean retriable;
    private final String messageId;

    private DeliveryException(String message, Throwable cause, boolean retriable, String messageId) {
        super(message, cause);
        this.retriable = retriable;
        this.messageId = messageId;
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
