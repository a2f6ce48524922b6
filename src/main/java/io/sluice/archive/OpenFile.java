package io.sluice.archive;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The archive file being written for one partition: a gzip stream into a local spool file, from offset
 * {@code first} (where the previous file of the partition ended) through the last record appended. Only
 * {@link Archiver#flush} publishes it, whole, through the {@link ArchiveStore}.
 */
final class OpenFile implements AutoCloseable {
    final String topic;
    final int partition;
    final long first;
    final Instant hour;
    final Instant openedAt;
    private final Path spool;
    private final DataOutputStream out;
    private long last = -1;
    private long bytes;
    private int records;

    OpenFile(Path spoolDir, String topic, int partition, long first, Instant hour, Instant openedAt)
            throws IOException {
        this.topic = topic;
        this.partition = partition;
        this.first = first;
        this.hour = hour;
        this.openedAt = openedAt;
        this.spool = Files.createTempFile(spoolDir, "p" + partition + "-", ".tmp");
        this.out = new DataOutputStream(
                new BufferedOutputStream(new GZIPOutputStream(Files.newOutputStream(spool), 65536), 65536));
        ArchiveFormat.writeHeader(out);
    }

    void append(ConsumerRecord<byte[], byte[]> record) throws IOException {
        ArchiveFormat.write(out, record);
        last = record.offset();
        bytes += record.serializedValueSize() + Math.max(0, record.serializedKeySize());
        records++;
    }

    long bytes() {
        return bytes;
    }

    int records() {
        return records;
    }

    /** The offset after the last record appended: the end of the range this file covers. */
    long end() {
        return last + 1;
    }

    /** Writes the end mark and closes the gzip stream; the spool file is then complete. */
    Path finish() throws IOException {
        ArchiveFormat.writeEnd(out, end());
        out.close();
        return spool;
    }

    ArchiveName name() {
        return new ArchiveName(topic, partition, hour, first, end());
    }

    /** Drops the spool file (a partition taken away, or after it was published). */
    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // the file is dropped anyway
        }
        try {
            Files.deleteIfExists(spool);
        } catch (IOException ignored) {
            // a leftover in the spool directory is removed at the next start
        }
    }
}
