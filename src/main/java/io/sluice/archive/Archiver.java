package io.sluice.archive;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.ArchiveSettings;
import io.sluice.kafka.ConsumerLoop;
import io.sluice.kafka.KafkaClients;
import io.sluice.lifecycle.Service;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the events topic into the archive (docs/replay.md), in the planner role: its own consumer group
 * ({@code archive.groupId}), one open file per assigned partition, cut at the hour of the records' timestamps, at
 * {@code archive.fileMaxBytes} and at {@code archive.fileMaxAge}. A file is published whole ({@link ArchiveStore#put})
 * and only then are the group's offsets committed, so a kill loses nothing: the next owner of the partition starts
 * at the archive's own end for it (or the committed offset, whichever is further), so files never overlap after an
 * ordinary restart and a file published just before a kill is not written again.
 */
public final class Archiver implements Service {
    private static final Logger log = LoggerFactory.getLogger(Archiver.class);

    private final Archive archive;
    private final ArchiveSettings settings;
    private final String topic;
    private final Path spoolDir;
    private final Clock clock;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final ConsumerLoop loop;
    private final Map<TopicPartition, OpenFile> open = new HashMap<>();
    /** Per assigned partition: where its next file starts (the previous file's end). */
    private final Map<TopicPartition, Long> starts = new HashMap<>();

    private final Counter files;
    private final Counter records;

    public Archiver(
            ArchiveSettings settings,
            Archive archive,
            KafkaClients clients,
            String topic,
            Path spoolDir,
            Clock clock,
            MeterRegistry registry) {
        this.archive = archive;
        this.settings = settings;
        this.topic = topic;
        this.spoolDir = spoolDir;
        this.clock = clock;
        this.consumer = clients.consumer(Map.of(
                ConsumerConfig.GROUP_ID_CONFIG,
                settings.groupId(),
                ConsumerConfig.CLIENT_ID_CONFIG,
                "sluice-archiver",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                2000));
        this.loop = new ConsumerLoop("sluice-archiver", consumer, new Body(), clock);
        this.files = Counter.builder("sluice_archive_files_total")
                .description("Archive files published")
                .register(registry);
        this.records = Counter.builder("sluice_archive_records_total")
                .description("Events topic records published to the archive")
                .register(registry);
    }

    private boolean started;

    @Override
    public synchronized void start() {
        if (started) return; // once: the loop owns the consumer, and closes it for good
        started = true;
        try {
            Files.createDirectories(spoolDir);
            try (Stream<Path> left = Files.list(spoolDir)) {
                for (Path p : left.toList()) Files.deleteIfExists(p); // files a killed archiver was writing
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot use the archive spool directory " + spoolDir + ": " + e, e);
        }
        consumer.subscribe(List.of(topic), new Rebalance());
        log.info("Archiving {} to {}", topic, archive.describe());
        loop.start();
    }

    private final class Body implements ConsumerLoop.Body {
        @Override
        public void pollOnce() throws Exception {
            try {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) append(r);
                Instant now = clock.instant();
                for (TopicPartition tp : List.copyOf(open.keySet())) {
                    OpenFile file = open.get(tp);
                    if (!now.isBefore(file.openedAt.plus(settings.fileMaxAge()))) flush(tp);
                }
            } catch (Exception e) {
                rewind();
                throw e;
            }
        }

        @Override
        public void beforeClose() {
            for (TopicPartition tp : List.copyOf(open.keySet())) {
                try {
                    flush(tp);
                } catch (IOException | RuntimeException e) {
                    log.warn(
                            "Archive file of {} not written at close ({}); the next archiver writes it",
                            tp,
                            e.toString());
                    discard(tp);
                }
            }
        }
    }

    private void append(ConsumerRecord<byte[], byte[]> record) throws IOException {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        Instant hour = ArchiveName.hourOf(record.timestamp());
        OpenFile file = open.get(tp);
        // a later hour starts a new file; a late record (an earlier hour) stays in the open one
        if (file != null && hour.isAfter(file.hour)) {
            flush(tp);
            file = null;
        }
        if (file == null) {
            long first = starts.getOrDefault(tp, record.offset());
            file = new OpenFile(
                    spoolDir, topic, tp.partition(), Math.min(first, record.offset()), hour, clock.instant());
            open.put(tp, file);
        }
        file.append(record);
        if (file.bytes() >= settings.fileMaxBytes()) flush(tp);
    }

    /**
     * Publishes the partition's open file, then commits its end. A failure is thrown to {@link Body#pollOnce}, which
     * rewinds; the consumer loop backs off and tries again.
     */
    private void flush(TopicPartition tp) throws IOException {
        OpenFile file = open.get(tp);
        if (file == null) return;
        ArchiveName name = file.name();
        Path complete = file.finish();
        archive.store().put(name.name(), complete);
        open.remove(tp);
        file.close();
        starts.put(tp, name.end());
        files.increment();
        records.increment(file.records());
        consumer.commitSync(Map.of(tp, new OffsetAndMetadata(name.end())));
        log.debug("Archived {} ({} records)", name.name(), file.records());
    }

    /**
     * After a failure midway through a poll's records (a publish or commit refused), every open file is dropped and
     * every partition read again from where its last published file ended, so no file ever misses a record.
     */
    private void rewind() {
        for (TopicPartition tp : List.copyOf(open.keySet())) discard(tp);
        try {
            starts.forEach(consumer::seek);
        } catch (RuntimeException e) {
            log.warn("Archiver could not rewind ({}); rejoining the group", e.toString());
            consumer.unsubscribe();
            consumer.subscribe(List.of(topic), new Rebalance());
        }
    }

    private void discard(TopicPartition tp) {
        OpenFile file = open.remove(tp);
        if (file != null) file.close();
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // publishing now would commit for a partition another archiver may already read: leave it to the next owner
            for (TopicPartition tp : partitions) {
                discard(tp);
                starts.remove(tp);
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            onPartitionsRevoked(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                long position = consumer.position(tp);
                long archived;
                try {
                    archived = archive.files(tp.partition()).stream()
                            .mapToLong(ArchiveName::end)
                            .max()
                            .orElse(0);
                } catch (IOException e) {
                    throw new IllegalStateException("cannot list the archive of " + tp + ": " + e.getMessage(), e);
                }
                if (archived > position) consumer.seek(tp, archived);
                starts.put(tp, Math.max(archived, position));
            }
        }
    }

    @Override
    public void close() {
        loop.close();
    }
}
