package io.sluice.function;

import io.sluice.delivery.DeliveryException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * A sync's function as the console shows it: {@code healthy}; {@code service failing} (a service it calls failed
 * within the last minute, yet its batches went through: the script coped); or {@code waiting} (its last batch was
 * given up for a failing service and waits as its row, until a batch goes through again).
 */
public final class FunctionHealth {
    static final Duration RECENT = Duration.ofMinutes(1);

    /** What the sync page shows; {@code lastError} has no query strings or headers (they may carry keys). */
    public record State(String state, String lastError, Instant since) {}

    private final Clock clock;
    private String state = "healthy";
    private String lastError;
    private Instant since;
    private Instant lastFailure;

    FunctionHealth(Clock clock) {
        this.clock = clock;
        this.since = clock.instant();
    }

    /** A batch went through; {@code serviceFailure}: a call in it still failed (or null). */
    synchronized void applied(DeliveryException serviceFailure) {
        Instant now = clock.instant();
        if (serviceFailure != null) {
            lastFailure = now;
            lastError = serviceFailure.getMessage();
        }
        boolean failing =
                lastFailure != null && Duration.between(lastFailure, now).compareTo(RECENT) < 0;
        change(failing ? "service failing" : "healthy", now);
    }

    /** A batch was given up for a failing service. */
    synchronized void waited(DependencyFailure failure) {
        Instant now = clock.instant();
        lastFailure = now;
        lastError = failure.failure().getMessage();
        change("waiting", now);
    }

    /** The state as a number for the {@code sluice.function.state} gauge: 0 healthy, 1 service failing, 2 waiting. */
    double code() {
        return switch (state().state()) {
            case "waiting" -> 2;
            case "service failing" -> 1;
            default -> 0;
        };
    }

    /** The name of a {@link #code()} (what the console shows). */
    public static String name(double code) {
        return code >= 2 ? "waiting" : code >= 1 ? "service failing" : "healthy";
    }

    public synchronized State state() {
        if (state.equals("service failing")
                && Duration.between(lastFailure, clock.instant()).compareTo(RECENT) >= 0) {
            return new State("healthy", lastError, lastFailure.plus(RECENT));
        }
        return new State(state, lastError, since);
    }

    private void change(String next, Instant now) {
        if (!next.equals(state)) {
            state = next;
            since = now;
        }
    }
}
