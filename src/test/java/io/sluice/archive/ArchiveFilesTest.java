package io.sluice.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Archive files on a real directory store: records come back byte for byte (null key, empty and binary headers,
 * the timestamp type), overlapping files are read once per offset, a gap is passed over, a file cut short is refused
 * and never read as complete, and the first offset at or after a time is found.
 */
class ArchiveFilesTest {
    static final String TOPIC = "events";
    static final Instant HOUR = Instant.parse("2026-12-01T09:00:00Z");

    @TempDir
    Path dir;

    @Test
    void recordsComeBackByteForByteInOffsetOrderAndOverlapsOnce() throws Exception {
        Archive archive = new Archive(new DirectoryStore(dir.resolve("archive")), TOPIC);
        publish(archive, 0, 0, 10);
        publish(archive, 0, 5, 15); // an archiver that died between upload and commit, restarted from the commit
        publish(archive, 0, 20, 25); // a gap: 15-19 were deleted before they were archived
        List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>();
        try (ArchiveCursor cursor = archive.cursor(0, 3)) {
            for (var r = cursor.next(); r != null; r = cursor.next()) read.add(r);
            assertThat(cursor.position()).isEqualTo(25);
        }
        assertThat(read)
                .extracting(ConsumerRecord::offset)
                .containsExactly(3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 20L, 21L, 22L, 23L, 24L);
        for (var r : read) {
            ConsumerRecord<byte[], byte[]> expected = record(r.offset());
            assertThat(r.topic()).isEqualTo(TOPIC);
            assertThat(r.timestamp()).isEqualTo(expected.timestamp());
            assertThat(r.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
            assertThat(r.key()).isEqualTo(expected.key());
            assertThat(r.value()).isEqualTo(expected.value());
            assertThat(r.headers().toArray()).isEqualTo(expected.headers().toArray());
        }
        assertThat(archive.end(0))
                .as("the archive's end without a gap from its first file")
                .isEqualTo(15);
        assertThat(archive.files(1)).isEmpty();
    }

    @Test
    void theFirstOffsetAtOrAfterATimeBelowKafkasBeginning() throws Exception {
        Archive archive = new Archive(new DirectoryStore(dir.resolve("archive")), TOPIC);
        publish(archive, 2, 0, 40);
        assertThat(archive.offsetForTime(2, HOUR.plusSeconds(7), 40)).contains(7L);
        assertThat(archive.offsetForTime(2, HOUR.minusSeconds(3600 * 5), 40)).contains(0L);
        assertThat(archive.offsetForTime(2, HOUR.plusSeconds(30), 25))
                .as("not below 'before'")
                .isEmpty();
        assertThat(archive.offsetForTime(2, HOUR.plusSeconds(3600 * 5), 40)).isEmpty();
    }

    @Test
    void aFileCutShortIsRefusedNotReadAsComplete() throws Exception {
        DirectoryStore store = new DirectoryStore(dir.resolve("archive"));
        Archive archive = new Archive(store, TOPIC);
        OpenFile file = open(0, 0);
        for (long o = 0; o < 10; o++) file.append(record(o));
        Path complete = file.finish();
        byte[] bytes = Files.readAllBytes(complete);
        // a whole gzip stream whose content lacks the end mark: what a writer killed before finishing would leave
        Path cut = dir.resolve("cut.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(cut))) {
            out.write(new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(bytes)).readNBytes(40));
        }
        store.put(new ArchiveName(TOPIC, 0, HOUR, 0, 10).name(), cut);
        file.close();
        try (ArchiveCursor cursor = archive.cursor(0, 0)) {
            assertThatThrownBy(() -> {
                        while (cursor.next() != null) {}
                    })
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void namesParseBackAndOtherObjectsAreIgnored() throws Exception {
        ArchiveName name = new ArchiveName(TOPIC, 3, HOUR, 120, 4567);
        assertThat(name.name())
                .isEqualTo("events/p=3/2026-12-01T09/00000000000000000120-00000000000000004567.sluice.gz");
        assertThat(ArchiveName.parse(name.name())).contains(name);
        assertThat(ArchiveName.parse("events/p=3/README.txt")).isEqualTo(Optional.empty());
        DirectoryStore store = new DirectoryStore(dir.resolve("archive"));
        Path readme = Files.writeString(dir.resolve("readme"), "not an archive file");
        store.put("events/p=3/README.txt", readme);
        assertThat(new Archive(store, TOPIC).files(3)).isEmpty();
        assertThatThrownBy(() -> store.open("../outside")).isInstanceOf(IllegalArgumentException.class);
    }

    private void publish(Archive archive, int partition, long first, long end) throws IOException {
        OpenFile file = open(partition, first);
        for (long o = first; o < end; o++) file.append(record(o));
        archive.store().put(file.name().name(), file.finish());
        file.close();
    }

    private OpenFile open(int partition, long first) throws IOException {
        return new OpenFile(Files.createDirectories(dir.resolve("spool")), TOPIC, partition, first, HOUR, HOUR);
    }

    private static ConsumerRecord<byte[], byte[]> record(long offset) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("source", ("web-" + offset).getBytes(StandardCharsets.UTF_8));
        headers.add("empty", new byte[0]);
        headers.add("binary", new byte[] {0, (byte) 0xff, (byte) offset});
        byte[] key = offset % 3 == 0 ? null : ("web:user-" + offset).getBytes(StandardCharsets.UTF_8);
        byte[] value = ("{\"messageId\":\"m-" + offset + "\",\"x\":\"é\"}").getBytes(StandardCharsets.UTF_8);
        return new ConsumerRecord<>(
                TOPIC,
                0,
                offset,
                HOUR.plusSeconds(offset).toEpochMilli(),
                TimestampType.CREATE_TIME,
                key == null ? -1 : key.length,
                value.length,
                key,
                value,
                headers,
                Optional.empty());
    }
}
