package io.sluice.archive;

import io.sluice.config.ArchiveSettings;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reading the archive of the events topic (docs/replay.md): which files a partition has, the first archived offset
 * at or after a time (a backfill's window), and {@link ArchiveCursor}s over an offset range. Backfills use it for
 * the part of a window older than the earliest offset Kafka still holds; everything newer is read from Kafka.
 */
public final class Archive implements AutoCloseable {
    /** Records of one partition may be this late against the hour of the file they are in (collector clocks). */
    private static final Duration LATE = Duration.ofHours(1);

    /** How long a partition's listing serves cursors: files are only ever added, and a batch's are long there. */
    private static final Duration LISTING = Duration.ofSeconds(10);

    private final ArchiveStore store;
    private final String topic;
    private final java.util.concurrent.ConcurrentHashMap<Integer, Listing> listings =
            new java.util.concurrent.ConcurrentHashMap<>();

    private record Listing(List<ArchiveName> files, long takenNanos) {}

    public Archive(ArchiveStore store, String topic) {
        this.store = store;
        this.topic = topic;
    }

    /** The archive the settings enable, or empty when it is off. */
    public static Optional<Archive> open(ArchiveSettings settings, String topic) {
        if (!settings.enabled()) return Optional.empty();
        return Optional.of(new Archive(ArchiveStore.open(settings), topic));
    }

    ArchiveStore store() {
        return store;
    }

    public String describe() {
        return store.describe();
    }

    /** The partition's files in offset order; overlapping files (an archiver that died between upload and commit) stay. */
    public List<ArchiveName> files(int partition) throws IOException {
        List<ArchiveName> files = new ArrayList<>();
        for (String name : store.list(ArchiveName.partitionPrefix(topic, partition)))
            ArchiveName.parse(name)
                    .filter(n -> n.topic().equals(topic) && n.partition() == partition)
                    .ifPresent(files::add);
        files.sort(Comparator.comparingLong(ArchiveName::first).thenComparingLong(ArchiveName::end));
        return files;
    }

    /** The end (exclusive) of what the archive holds of the partition without a gap from its first file; 0 if none. */
    public long end(int partition) throws IOException {
        return end(files(partition));
    }

    static long end(List<ArchiveName> files) {
        long end = files.isEmpty() ? 0 : files.getFirst().first();
        for (ArchiveName f : files) if (f.first() <= end) end = Math.max(end, f.end());
        return end;
    }

    /** A cursor over the partition's archived records from {@code from} on (offset order, each offset once). */
    public ArchiveCursor cursor(int partition, long from) throws IOException {
        Listing listing = listings.get(partition);
        // a cache age on the monotonic clock, like a read timeout; a cursor past the listing's end lists again
        if (listing == null
                || System.nanoTime() - listing.takenNanos() > LISTING.toNanos()
                || end(listing.files()) <= from) {
            listing = new Listing(List.copyOf(files(partition)), System.nanoTime());
            listings.put(partition, listing);
        }
        return new ArchiveCursor(store, topic, partition, listing.files(), from);
    }

    /**
     * The first archived offset below {@code before} whose record's timestamp is at or after {@code time}, as Kafka's
     * offsets-for-times answers it for what Kafka holds; empty when no archived record below {@code before} is.
     */
    public Optional<Long> offsetForTime(int partition, Instant time, long before) throws IOException {
        List<ArchiveName> files = files(partition);
        Instant from = time.minus(LATE);
        long start = -1;
        for (ArchiveName f : files) {
            if (f.hour().plus(Duration.ofHours(1)).isAfter(from)) {
                start = f.first();
                break;
            }
        }
        if (start < 0) return Optional.empty();
        try (ArchiveCursor cursor = new ArchiveCursor(store, topic, partition, files, start)) {
            for (ConsumerRecord<byte[], byte[]> r = cursor.next(); r != null && r.offset() < before; r = cursor.next())
                if (r.timestamp() >= time.toEpochMilli()) return Optional.of(r.offset());
        }
        return Optional.empty();
    }

    @Override
    public void close() {
        store.close();
    }
}
