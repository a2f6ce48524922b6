package io.sluice.bench;

/**
 * Latencies in microseconds with ~1.6% precision in constant memory (log-linear buckets in the manner of
 * HdrHistogram, which is only a runtime dependency here). Values below 128 us are exact; above, each power of two
 * is split into 64 buckets. Not thread-safe: each load generator records from a single thread.
 */
final class LatencyHistogram {
    private static final long MAX = 60_000_000L; // 60 s
    private final long[] counts = new long[index(MAX) + 1];
    private long total;
    private long max;

    void record(long micros) {
        long v = Math.max(0, Math.min(MAX, micros));
        counts[index(v)]++;
        total++;
        max = Math.max(max, v);
    }

    /** The non-empty buckets as {index, count} pairs, flattened: to send a histogram between processes. */
    long[] sparse() {
        return java.util.stream.IntStream.range(0, counts.length)
                .filter(i -> counts[i] > 0)
                .mapToObj(i -> new long[] {i, counts[i]})
                .flatMapToLong(java.util.Arrays::stream)
                .toArray();
    }

    /** The histogram {@link #sparse()} described, with its maximum. */
    static LatencyHistogram of(long[] sparse, long max) {
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 0; i + 1 < sparse.length; i += 2) {
            h.counts[(int) sparse[i]] += sparse[i + 1];
            h.total += sparse[i + 1];
        }
        h.max = max;
        return h;
    }

    long count() {
        return total;
    }

    long max() {
        return max;
    }

    /** The value at {@code percentile} (0-100): the upper bound of the bucket holding it; 0 when empty. */
    long percentile(double percentile) {
        long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) return Math.min(max, lowerBound(i + 1) - 1);
        }
        return max;
    }

    static int index(long v) {
        if (v < 128) return (int) v;
        int shift = 63 - Long.numberOfLeadingZeros(v) - 6; // keep the top 7 bits
        return 128 + (shift - 1) * 64 + (int) ((v >> shift) - 64);
    }

    private static long lowerBound(int index) {
        if (index < 128) return index;
        int shift = (index - 128) / 64 + 1;
        return (64L + (index - 128) % 64) << shift;
    }
}
