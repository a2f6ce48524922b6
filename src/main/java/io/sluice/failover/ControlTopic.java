package io.sluice.failover;

import io.sluice.kafka.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The compacted control topic: key {@code pause} holds whether queue-database writes are paused, keys
 * {@code process/<id>} hold each process's latest {@link ProcessReport}. It lives in Kafka, not in the database,
 * so it works while the database is being failed over. One partition, so everything is read in order.
 */
public final class ControlTopic implements AutoCloseable {
    static final String PAUSE_KEY = "pause";
    static final String PROCESS_PREFIX = "process/";

    private final String topic;
    private final Clock clock;
    private final TopicPartition partition;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, ProcessReport> reports = new ConcurrentHashMap<>();
    private volatile boolean paused;
    private volatile long pauseOffset = -1;

    public ControlTopic(KafkaClients clients, String topic, Clock clock) {
        this.topic = topic;
        this.clock = clock;
        this.partition = new TopicPartition(topic, 0);
        ensure(clients, topic);
        this.producer = clients.producer(Map.of(
                ProducerConfig.CLIENT_ID_CONFIG,
                "sluice-control",
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                10_000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                10_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                5_000));
        this.consumer = clients.consumer(Map.of(
                ConsumerConfig.CLIENT_ID_CONFIG,
                "sluice-control",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                100));
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
    }

    private static void ensure(KafkaClients clients, String topic) {
        try (Admin admin = clients.admin(Map.of(AdminClientConfig.CLIENT_ID_CONFIG, "sluice-control"))) {
            if (admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic)) return;
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())
                            .configs(Map.of("cleanup.policy", "compact", "segment.ms", "600000"))))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException))
                throw new IllegalStateException("Could not create control topic " + topic, e);
        } catch (Exception e) {
            throw new IllegalStateException("Could not create control topic " + topic + ": " + e.getMessage(), e);
        }
    }

    /** Reads everything up to the current end of the topic (used at start, so a paused deployment stays paused). */
    public void catchUp(Duration timeout) {
        long end = consumer.endOffsets(List.of(partition)).get(partition);
        // A real wait on the broker, so a monotonic deadline rather than the injected (possibly manual) clock.
        long deadline = System.nanoTime() + timeout.toNanos();
        while (consumer.position(partition) < end && System.nanoTime() < deadline) poll(Duration.ofMillis(200));
    }

    /** Applies whatever arrived; called by one thread only. */
    public void poll(Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
            String key = new String(record.key(), StandardCharsets.UTF_8);
            if (key.equals(PAUSE_KEY)) {
                paused = record.value() != null
                        && new String(record.value(), StandardCharsets.UTF_8).contains("\"paused\":true");
                pauseOffset = record.offset();
            } else if (key.startsWith(PROCESS_PREFIX)) {
                String id = key.substring(PROCESS_PREFIX.length());
                ProcessReport report = record.value() == null ? null : ProcessReport.fromJson(record.value());
                if (report == null) reports.remove(id);
                else reports.put(id, report);
            }
        }
    }

    public boolean paused() {
        return paused;
    }

    public Map<String, ProcessReport> reports() {
        return Map.copyOf(reports);
    }

    /** Offset of the latest pause/resume record read so far (-1: none): which request the reader acts on. */
    public long pauseOffset() {
        return pauseOffset;
    }

    /** Whether everything up to and including {@code offset} has been read (called by the polling thread). */
    public boolean readPast(long offset) {
        return consumer.position(partition) > offset;
    }

    /** Publishes a pause (or resume) request; returns its offset, which processes echo once they apply it. */
    public long setPaused(boolean pause, String by) throws Exception {
        String value = "{\"paused\":" + pause + ",\"by\":\"" + by.replace("\"", "'") + "\",\"at\":\"" + clock.instant()
                + "\"}";
        return send(PAUSE_KEY, value.getBytes(StandardCharsets.UTF_8));
    }

    public void report(ProcessReport report) throws Exception {
        send(PROCESS_PREFIX + report.id(), report.toJson());
    }

    /** Removes a process's report (clean shutdown): a compacted tombstone. */
    public void forget(String processId) throws Exception {
        send(PROCESS_PREFIX + processId, null);
    }

    private long send(String key, byte[] value) throws Exception {
        return producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value))
                .get(10, TimeUnit.SECONDS)
                .offset();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(2));
        consumer.close(Duration.ofSeconds(2));
    }
}
