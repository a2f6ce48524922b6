package io.sluice.collector;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the request bytes held in memory at once. A request that cannot get its share within a short wait is
 * refused with 429 instead of growing the heap or queueing until clients time out (cf. Kafka's BufferPool).
 */
final class InFlightLimiter {
    private final Semaphore bytes;
    private final long capacity;
    private final long maxWaitMillis;

    InFlightLimiter(long capacityBytes, long maxWaitMillis) {
        this.capacity = capacityBytes;
        this.bytes = new Semaphore((int) Math.min(Integer.MAX_VALUE, capacityBytes));
        this.maxWaitMillis = maxWaitMillis;
    }

    /** Reserves {@code amount} bytes or throws a 429 {@link Rejection}; pair with {@link #release}. */
    int acquire(long amount) {
        int permits = (int) Math.min(amount, Math.min(Integer.MAX_VALUE, capacity));
        try {
            if (bytes.tryAcquire(permits, maxWaitMillis, TimeUnit.MILLISECONDS)) return permits;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw Rejection.overloaded("the collector is at its in-flight memory limit; retry shortly");
    }

    void release(int permits) {
        bytes.release(permits);
    }

    /** A request's share, grown as its bytes actually arrive (not as declared); {@link #close} returns it all. */
    Reservation reserve() {
        return new Reservation();
    }

    /**
     * Counting what a request really holds, rather than its declared Content-Length, means a client that declares
     * 500 KB and trickles one byte costs one byte: slow clients cannot starve the others by reserving.
     */
    final class Reservation implements AutoCloseable {
        private long held; // permits taken: the larger of counted and the largest buffer covered
        private long counted; // bytes added by grow

        /** Adds {@code amount} bytes to this request's share or throws a 429 {@link Rejection}. */
        void grow(long amount) {
            if (amount <= 0) return;
            counted += amount;
            take(counted);
        }

        /**
         * Makes this request's share at least {@code bytes}, the size of a buffer it is about to allocate before
         * its bytes arrive (a plain body's buffer grows x4 ahead of them), or throws a 429 {@link Rejection}. Bytes
         * later added by {@link #grow} fill that room first.
         */
        void cover(long bytes) {
            take(bytes);
        }

        private void take(long total) {
            long wanted = Math.min(total, Math.min(capacity, Integer.MAX_VALUE)) - held;
            if (wanted > 0) held += acquire(wanted);
        }

        long held() {
            return held;
        }

        @Override
        public void close() {
            if (held > 0) bytes.release((int) held);
            held = 0;
            counted = 0;
        }
    }

    long available() {
        return bytes.availablePermits();
    }
}
