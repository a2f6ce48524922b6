package io.sluice.destination.kafka;

import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.Failures;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.Destination;
import io.sluice.event.UserKey;
import io.sluice.kafka.KafkaClients;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards each event to a topic, exactly once for consumers that read with {@code isolation.level=read_committed}
 * (docs/webhooks.md, "Kafka destination"): key = the event's user ({@link UserKey}, so one user's events share a
 * partition and keep their order), value = the event's JSON.
 *
 * <p>Each delivery is one Kafka transaction of a producer whose {@code transactional.id} belongs to the sync and the
 * events-topic partition ({@link TransactionalIds}); the transaction also writes the delivery's marker to the marker
 * topic ({@link DeliveryMarker}). A batch delivered again after a worker crash or a lost lease finds its marker and
 * is not sent again; a worker that lost its lease is fenced by the new owner's {@code initTransactions} and cannot
 * commit. A failure of any record aborts the transaction: the batch is retried as a whole and nothing of the failed
 * attempt is visible to read_committed consumers. Records the topic refuses for good (too large, say) are left out
 * and reported one by one; the others stand.
 */
final class KafkaDestination implements Destination {
    private static final Logger log = LoggerFactory.getLogger(KafkaDestination.class);
    /** Producers of lanes unused this long are closed (a worker that stopped getting a partition's batches). */
    private static final Duration IDLE = Duration.ofMinutes(10);

    private final String id;
    private final String topic;
    private final KafkaClients clients;
    private final Map<String, Object> producerConfig;
    private final MarkerTopic markerTopic;
    private final Map<String, TransactionLane> lanes = new ConcurrentHashMap<>();
    private Admin admin;

    KafkaDestination(
            String id, String topic, String markerTopic, KafkaClients clients, Map<String, Object> producerConfig) {
        this.id = id;
        this.topic = topic;
        this.clients = clients;
        this.producerConfig = producerConfig;
        Duration timeout = Duration.ofMillis(Long.parseLong(
                String.valueOf(producerConfig.getOrDefault(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000"))));
        Duration transactionTimeout = Duration.ofMillis(Long.parseLong(
                String.valueOf(producerConfig.getOrDefault(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000"))));
        this.markerTopic = new MarkerTopic(
                markerTopic, this::admin, this::newConsumer, timeout, transactionTimeout.plusSeconds(15));
    }

    /** Creates the marker topic if missing; a cluster not reachable yet is logged here and fails deliveries retriably. */
    @Override
    public void open() {
        try {
            markerTopic.ensure();
            log.info(
                    "Kafka destination {}: topic {} at {} (transactional, exactly once for read_committed consumers;"
                            + " markers in {})",
                    id,
                    topic,
                    producerConfig.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG),
                    markerTopic.name());
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            log.warn(
                    "Kafka destination {} could not check its marker topic {} yet ({}); deliveries will be retried",
                    id,
                    markerTopic.name(),
                    e.toString());
        }
    }

    @Override
    public DeliveryReport deliver(DeliveryBatch batch) throws Exception {
        if (batch.events().isEmpty()) return DeliveryReport.delivered();
        String transactionalId;
        String markerKey;
        if (batch.origin() instanceof DeliveryBatch.BatchRange range) {
            // a backfill lane has its own id: its batches of this partition are delivered beside the live ones
            transactionalId = range.backfill() == 0
                    ? TransactionalIds.forPartition(batch.syncId(), range.partition())
                    : TransactionalIds.forBackfill(batch.syncId(), range.partition());
            markerKey = transactionalId;
        } else {
            String user = UserKey.of(batch.events().getFirst());
            transactionalId = TransactionalIds.forRetries(batch.syncId(), TransactionalIds.retrySlot(user));
            markerKey = transactionalId + "/" + EventKeys.hash(user);
        }
        closeIdleLanes();
        TransactionLane lane = lanes.computeIfAbsent(
                transactionalId, tid -> new TransactionLane(tid, topic, markerTopic, this::newProducer));
        lane.lock.lockInterruptibly();
        try {
            return lane.deliver(batch, markerKey);
        } catch (DeliveryException | InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw Failures.classify(e); // the marker topic unreachable, a read that timed out, ...
        } finally {
            lane.lock.unlock();
        }
    }

    /** A rerun is recognised by the exact batch range it committed, so runs of batches would hide it (see there). */
    @Override
    public boolean deliversRuns() {
        return false;
    }

    private void closeIdleLanes() {
        long now = System.nanoTime();
        lanes.values().removeIf(lane -> {
            if (now - lane.lastUsedNanos < IDLE.toNanos() || !lane.lock.tryLock()) return false;
            try {
                lane.close();
                return true;
            } finally {
                lane.lock.unlock();
            }
        });
    }

    // The Kafka clients of this destination, one method per kind (all built here).

    /** The transactional producer of one lane. */
    private Producer<byte[], byte[]> newProducer(String transactionalId) {
        Map<String, Object> config = new HashMap<>(producerConfig);
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        config.put(
                ProducerConfig.CLIENT_ID_CONFIG,
                producerConfig.get(ProducerConfig.CLIENT_ID_CONFIG) + "-" + transactionalId);
        return clients.producer(config);
    }

    /** Reads the marker topic: read_committed, no group. */
    private Consumer<byte[], byte[]> newConsumer() {
        Map<String, Object> config = sharedSettings(ConsumerConfig.configNames());
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, producerConfig.get(ProducerConfig.CLIENT_ID_CONFIG) + "-markers");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return clients.consumer(config);
    }

    /** Creates and inspects the marker topic; one per destination, built on first use. */
    private synchronized Admin admin() {
        if (admin == null) {
            Map<String, Object> config = sharedSettings(AdminClientConfig.configNames());
            config.put(
                    AdminClientConfig.CLIENT_ID_CONFIG, producerConfig.get(ProducerConfig.CLIENT_ID_CONFIG) + "-admin");
            admin = clients.admin(config);
        }
        return admin;
    }

    /**
     * The producer settings another client kind knows too (timeouts, ...); bootstrap servers and security come from
     * {@link KafkaClients}.
     */
    private Map<String, Object> sharedSettings(java.util.Set<String> known) {
        Map<String, Object> config = new HashMap<>();
        producerConfig.forEach((key, value) -> {
            if (known.contains(key)
                    && !key.equals(ProducerConfig.CLIENT_ID_CONFIG)
                    && !key.equals(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)
                    && !key.endsWith("serializer")
                    && !key.startsWith("retry.backoff")
                    && !key.equals(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG)) config.put(key, value);
        });
        return config;
    }

    @Override
    public synchronized void close() {
        lanes.values().forEach(lane -> {
            lane.lock.lock();
            try {
                lane.close();
            } finally {
                lane.lock.unlock();
            }
        });
        lanes.clear();
        if (admin != null) admin.close(Duration.ofSeconds(5));
        admin = null;
    }
}
