package io.sluice.collector;

/**
 * Why a request is refused: HTTP status, a stable rule name (also the metrics reason), a human message, and the
 * index of the offending event in the batch (-1 when the request as a whole is at fault).
 */
public final class Rejection extends RuntimeException {
    private final int status;
    private final String rule;
    private final int index;
    private final int retryAfterSeconds;

    public Rejection(int status, String rule, String message, int index) {
        this(status, rule, message, index, 0);
    }

    private Rejection(int status, String rule, String message, int index, int retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.rule = rule;
        this.index = index;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static Rejection badRequest(String rule, String message) {
        return new Rejection(400, rule, message, -1);
    }

    public static Rejection badEvent(int index, String rule, String message) {
        return new Rejection(400, rule, message, index);
    }

    public static Rejection tooLarge(String rule, String message, int index) {
        return new Rejection(413, rule, message, index);
    }

    public static Rejection unauthorized(String rule, String message) {
        return new Rejection(401, rule, message, -1);
    }

    public static Rejection overloaded(String message) {
        return new Rejection(429, "overloaded", message, -1, 1);
    }

    /** The body did not arrive in time (minimum data rate, idle timeout); the connection is closed after it. */
    public static Rejection timeout(String rule, String message) {
        return new Rejection(408, rule, message, -1);
    }

    /** A bug of the collector's, not of the request: answered as JSON like the rest, and logged (throttled). */
    public static Rejection internal() {
        return new Rejection(
                500, "internal_error", "the collector failed to process the request; it has been logged", -1);
    }

    public static Rejection unavailable(String message) {
        return new Rejection(503, "kafka_unavailable", message, -1, 5);
    }

    public int status() {
        return status;
    }

    public String rule() {
        return rule;
    }

    public int index() {
        return index;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
