package io.sluice.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The in-flight budget counts what a request really holds in memory: bytes received and records made, and the room
 * a plain body's buffer takes before its bytes arrive; it never exceeds a quarter of the heap.
 */
class InFlightLimiterTest {

    @Test
    void coveredRoomIsFilledByLaterBytesNotCountedTwice() {
        InFlightLimiter limiter = new InFlightLimiter(100_000, 0);
        try (InFlightLimiter.Reservation r = limiter.reserve()) {
            r.grow(8_192);
            r.cover(32_768);
            assertThat(r.held()).isEqualTo(32_768);
            r.grow(24_576); // the rest of the body, into the room already held
            assertThat(r.held()).isEqualTo(32_768);
            r.grow(16_384); // records as stored come on top
            assertThat(r.held()).isEqualTo(49_152);
            assertThat(limiter.available()).isEqualTo(100_000 - 49_152);
        }
        assertThat(limiter.available()).isEqualTo(100_000);
    }

    @Test
    void roomBeyondTheBudgetIsRefusedWith429AndRetryAfter() {
        InFlightLimiter limiter = new InFlightLimiter(20_000, 0);
        try (InFlightLimiter.Reservation other = limiter.reserve();
                InFlightLimiter.Reservation r = limiter.reserve()) {
            other.grow(10_000);
            r.grow(8_192);
            assertThatThrownBy(() -> r.cover(32_768)).isInstanceOfSatisfying(Rejection.class, e -> {
                assertThat(e.status()).isEqualTo(429);
                assertThat(e.retryAfterSeconds()).isEqualTo(1);
            });
        }
        assertThat(limiter.available()).isEqualTo(20_000);
    }

    @Test
    void aPlainBodysBufferIsReservedBeforeItsBytesArrive() {
        byte[] body = new byte[100_000];
        Arrays.fill(body, (byte) 'x');
        InFlightLimiter limiter = new InFlightLimiter(1_000_000, 0);
        List<Long> heldAtEachRead = new ArrayList<>();
        List<Integer> roomAtEachRead = new ArrayList<>();
        try (InFlightLimiter.Reservation r = limiter.reserve()) {
            InputStream slow = new InputStream() {
                int position;

                @Override
                public int read() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    heldAtEachRead.add(r.held());
                    roomAtEachRead.add(off + len); // the buffer's size: reads fill it to its end
                    if (position == body.length) return -1;
                    int n = Math.min(Math.min(len, 8_192), body.length - position);
                    System.arraycopy(body, position, b, off, n);
                    position += n;
                    return n;
                }
            };
            byte[] read = new BodyReader(500_000).read(slow, null, body.length, r);
            assertThat(read).isEqualTo(body);
            assertThat(r.held()).isEqualTo(body.length);
        }
        assertThat(roomAtEachRead).hasSizeGreaterThan(3);
        for (int i = 1; i < heldAtEachRead.size(); i++) {
            // the first 8 KB buffer is Jetty-sized and not reserved; every larger one is, before it is filled
            if (roomAtEachRead.get(i) > 8_192)
                assertThat(heldAtEachRead.get(i)).isGreaterThanOrEqualTo(roomAtEachRead.get(i));
        }
        assertThat(roomAtEachRead).contains(32_768, 100_000);
    }

    @Test
    void theBudgetIsAtMostAQuarterOfTheHeap() {
        assertThat(IngestHandler.inFlightBudget(64L << 20, 1L << 30)).isEqualTo(64L << 20);
        assertThat(IngestHandler.inFlightBudget(64L << 20, 128L << 20)).isEqualTo(32L << 20);
    }

    @Test
    void theProducersBufferIsAtMostAQuarterOfTheHeap() {
        assertThat(EventPublisher.bufferMemory(64L << 20, 4L << 30)).isEqualTo(192L << 20);
        assertThat(EventPublisher.bufferMemory(64L << 20, 360L << 20)).isEqualTo(90L << 20);
        assertThat(EventPublisher.bufferMemory(1L << 20, 64L << 20)).isEqualTo(32L << 20);
    }
}
