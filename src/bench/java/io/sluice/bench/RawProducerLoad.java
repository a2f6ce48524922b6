package io.sluice.bench;

import io.sluice.kafka.KafkaClients;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The baseline: one thread sending pre-built records (the bench's event JSON, keyed like the collector keys them)
 * straight to the broker with the collector's own producer settings, as fast as acknowledgements allow. At most
 * {@link #MAX_OUTSTANDING} records are unacknowledged at once, so {@code send()} never blocks on buffer memory.
 */
final class RawProducerLoad {
    /** ~10 MB of 500-byte records: far more than throughput x ack latency, so the producer is never starved. */
    static final int MAX_OUTSTANDING = 20_000;

    record Result(long acked, long failed, LatencyHistogram ackLatencyMicros) {}

    private RawProducerLoad() {}

    /**
     * @param collectorProducerProperties the collector's producer configuration (client.id is replaced so the
     *                                    bench's producer thread can be told apart from the collector's)
     */
    static Result run(
            Map<String, Object> collectorProducerProperties,
            String topic,
            List<byte[]> values,
            List<byte[]> keys,
            Window measured)
            throws InterruptedException {
        return run(collectorProducerProperties, topic, values, keys, () -> measured);
    }

    /**
     * As above, with the window made by {@code windowOnceReady} only after the producer has its metadata and one
     * acknowledged record per partition: a separate load process starts its warm-up then, not before.
     */
    static Result run(
            Map<String, Object> collectorProducerProperties,
            String topic,
            List<byte[]> values,
            List<byte[]> keys,
            java.util.function.Supplier<Window> windowOnceReady)
            throws InterruptedException {
        Map<String, Object> props = new HashMap<>(collectorProducerProperties);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-bench-raw");
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) records.add(new ProducerRecord<>(topic, keys.get(i), values.get(i)));

        Semaphore window = new Semaphore(MAX_OUTSTANDING);
        LongAdder acked = new LongAdder();
        LongAdder failed = new LongAdder();
        LatencyHistogram latency = new LatencyHistogram(); // written only by the producer's I/O thread
        String servers = (String) props.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
        try (KafkaProducer<byte[], byte[]> producer =
                KafkaClients.plain(servers).producer(props)) {
            probeEveryPartition(producer, topic, records.get(0));
            Window measured = windowOnceReady.get();
            int i = 0;
            long now;
            while ((now = System.nanoTime()) < measured.end()) {
                if (!window.tryAcquire(10, TimeUnit.MILLISECONDS)) continue;
                long sent = now;
                producer.send(records.get(i++ % records.size()), (metadata, error) -> {
                    long done = System.nanoTime();
                    window.release();
                    if (error != null) {
                        failed.increment();
                    } else if (measured.contains(done)) {
                        acked.increment();
                        latency.record((done - sent) / 1_000);
                    }
                });
            }
            measured.awaitSnapshot();
            producer.flush(); // bounded by delivery.timeout.ms; callbacks have all run when it returns
        }
        return new Result(acked.sum(), failed.sum(), latency);
    }

    /**
     * One acknowledged record per partition before pipelining starts. On a just-created topic the broker may answer
     * the first batch with NOT_LEADER_OR_FOLLOWER while accepting the batches behind it; the idempotent producer's
     * retry of sequence 0 then fails with OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms (seen here with
     * Kafka 4.1). With a single record in flight per partition that cannot happen.
     */
    private static void probeEveryPartition(
            KafkaProducer<byte[], byte[]> producer, String topic, ProducerRecord<byte[], byte[]> sample) {
        List<Future<?>> acks = new ArrayList<>();
        for (var partition : producer.partitionsFor(topic)) {
            acks.add(producer.send(new ProducerRecord<>(topic, partition.partition(), sample.key(), sample.value())));
        }
        for (var ack : acks) {
            try {
                ack.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("probe record to " + topic + " failed: " + e.getMessage(), e);
            }
        }
    }
}
