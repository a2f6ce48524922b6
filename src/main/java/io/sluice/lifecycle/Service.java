package io.sluice.lifecycle;

/**
 * A stage or infrastructure piece with an explicit lifecycle. Both methods are idempotent; {@code close()} after a
 * failed or skipped {@code start()} is safe.
 */
public interface Service extends AutoCloseable {
    void start();

    @Override
    void close();
}
