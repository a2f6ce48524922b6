package io.sluice.archive;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads one partition's archived records in offset order from a given offset, one file at a time (one open stream),
 * skipping what overlapping files repeat. {@link #position()} is the offset the archive is read up to: after the
 * last record returned, or past a whole file's range once it is read, so a caller knows where Kafka must take over.
 */
public final class ArchiveCursor implements AutoCloseable {
    private final ArchiveStore store;
    private final String topic;
    private final int partition;
    private final List<ArchiveName> files;
    private int index;
    private ArchiveName current;
    private DataInputStream in;
    private long position;

    ArchiveCursor(ArchiveStore store, String topic, int partition, List<ArchiveName> files, long from) {
        this.store = store;
        this.topic = topic;
        this.partition = partition;
        this.files = files;
        this.position = from;
    }

    /**
     * The next record at or after {@link #position()}, or null at the archive's end. A gap between files (offsets
     * Kafka deleted before the archiver read them) is passed over: what was in it is nowhere.
     */
    public ConsumerRecord<byte[], byte[]> next() throws IOException {
        while (true) {
            if (in == null && !openNext()) return null;
            var record = ArchiveFormat.read(in, topic, partition, current.end(), current.name());
            if (record.isEmpty()) {
                position = Math.max(position, current.end());
                closeFile();
                continue;
            }
            ConsumerRecord<byte[], byte[]> r = record.get();
            if (r.offset() < position) continue;
            position = r.offset() + 1;
            return r;
        }
    }

    /** Opens the next file that holds offsets at or after the position, if it follows without a gap. */
    private boolean openNext() throws IOException {
        while (index < files.size()) {
            ArchiveName file = files.get(index++);
            if (file.end() <= position) continue;
            if (file.first() > position) {
                // a gap (the archiver was behind Kafka's retention): what lies in it is nowhere; go on after it
                position = file.first();
            }
            current = file;
            in = new DataInputStream(new BufferedInputStream(new GZIPInputStream(store.open(file.name()), 65536)));
            ArchiveFormat.readHeader(in, file.name());
            return true;
        }
        return false;
    }

    public long position() {
        return position;
    }

    private void closeFile() throws IOException {
        if (in != null) in.close();
        in = null;
        current = null;
    }

    @Override
    public void close() {
        try {
            closeFile();
        } catch (IOException ignored) {
            // a read-only stream: nothing is lost
        }
    }
}
