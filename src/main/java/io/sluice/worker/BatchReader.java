package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.EventHeader;
import io.sluice.queue.SyncFilter;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a batch's events back from Kafka by offset range, with a small pool of group-less consumers (assign +
 * seek, no group membership), and re-applies the sync's filter.
 */
public final class BatchReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatchReader.class);
    /**
     * A batch whose range cannot be read within this is failed (retriable) and retried later: bounds how long a worker
     * holds a batch it cannot read, e.g. while its route to Kafka is silent (docs/reliability.md, scenario 5).
     */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(15);
    /**
     * A fetch unanswered for this long is abandoned and its connection closed, so a black-holed socket (no RST, no
     * FIN) is given up well inside {@link #READ_TIMEOUT} and the next fetch reconnects; the client default (30 s)
     * would outlast the read timeout. Fetches wait at most {@code fetch.max.wait.ms} (10 ms) at the broker.
     */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8);

    private final BlockingQueue<KafkaConsumer<byte[], byte[]>> pool;
    private final List<KafkaConsumer<byte[], byte[]>> all = new ArrayList<>();
    private final ObjectMapper mapper = new ObjectMapper();

    public BatchReader(String bootstrapServers, int size) {
        pool = new ArrayBlockingQueue<>(size);
        for (int i = 0; i < size; i++) {
            KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                    Map.of(
                            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                            bootstrapServers,
                            ConsumerConfig.CLIENT_ID_CONFIG,
                            "sluice-worker-reader-" + i,
                            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                            false,
                            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                            "earliest",
                            ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                            2000,
                            ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                            10,
                            ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                            (int) REQUEST_TIMEOUT.toMillis(),
                            ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                            (int) READ_TIMEOUT.toMillis()),
                    new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
            all.add(consumer);
            pool.add(consumer);
        }
    }

    /** The events of the batch that match the filter, in offset order. */
    List<ObjectNode> read(ClaimedBatch batch, SyncFilter filter) throws IOException, InterruptedException {
        KafkaConsumer<byte[], byte[]> consumer = pool.take();
        try {
            TopicPartition tp = new TopicPartition(batch.topic(), batch.partition());
            consumer.assign(List.of(tp));
            consumer.seek(tp, batch.firstOffset());
            List<ObjectNode> events = new ArrayList<>();
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (consumer.position(tp) <= batch.lastOffset()) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("could not read offsets up to " + batch.lastOffset() + " of " + tp
                            + " within " + READ_TIMEOUT);
                }
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(100)).records(tp)) {
                    if (record.offset() > batch.lastOffset()) break;
                    EventHeader header = EventHeader.read(record.key(), record.value());
                    if (!filter.matches(header.source(), header.type(), header.event())) continue;
                    JsonNode event = mapper.readTree(record.value());
                    if (event instanceof ObjectNode object) events.add(object);
                    else log.warn("Skipping offset {} of {}: not a JSON object", record.offset(), tp);
                }
            }
            return events;
        } finally {
            pool.add(consumer);
        }
    }

    @Override
    public void close() {
        all.forEach(c -> {
            try {
                c.close(Duration.ofSeconds(1));
            } catch (RuntimeException e) {
                log.debug("reader close failed", e);
            }
        });
    }
}
