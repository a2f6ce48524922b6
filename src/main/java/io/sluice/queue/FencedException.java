package io.sluice.queue;

/**
 * A state change of a batch or a planning position affected no row: another process took over (lease expired and
 * reclaimed, or a newer planner). The caller must abandon what it was doing with it.
 */
public final class FencedException extends RuntimeException {
    public FencedException(String message) {
        super(message);
    }
}
