package io.sluice.violations;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.contract.Violation;
import io.sluice.contract.ViolationsTopic;
import io.sluice.db.Transactions;
import io.sluice.db.WritePermits;
import io.sluice.delivery.Failures;
import io.sluice.failover.WriteGate;
import io.sluice.failover.WriteHeldException;
import io.sluice.kafka.ConsumerLoop;
import io.sluice.kafka.KafkaClients;
import io.sluice.lifecycle.Service;
import io.sluice.retry.Recovery;
import io.sluice.retry.RetryPolicy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Persists the violations topic into the {@code violations} table of the queue database: consumer group
 * {@code sluice-violations}, batches of about {@link #BATCH_SIZE} rows or {@link #MAX_WAIT}, one multi-row INSERT
 * per {@link #BATCH_SIZE} rows, Kafka offsets committed only after the database committed. While the database refuses writes (down,
 * failing over, or paused: every write passes the {@link WriteGate}) the batch is kept and retried with backoff,
 * and consumption pauses once a batch is full, so nothing is lost and memory stays bounded. At least once: a crash
 * between the database commit and the offset commit stores a batch twice.
 */
public final class ViolationWriter implements Service {
    private static final Logger log = LoggerFactory.getLogger(ViolationWriter.class);
    public static final String GROUP_ID = "sluice-violations";
    static final int BATCH_SIZE = 500;
    static final Duration MAX_WAIT = Duration.ofMillis(500);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final int MAX_TEXT = 2_000;
    private static final String INSERT = """
            INSERT INTO violations (source_id, message_id, event_type, event_name, rule, path, message, action, occurred_at, recorded_at)
            SELECT v.s, v.m, v.t, v.n, v.r, v.p, v.msg, v.a, v.o::timestamptz, ?
            FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                 AS v(s, m, t, n, r, p, msg, a, o)""";

    private final DataSource dataSource;
    private final WriteGate gate;
    private final KafkaClients clients;
    private final String topic;
    private final Clock clock;
    private final Recovery database;
    private final Counter written;
    private final Counter failures;
    private final Counter unreadable;
    private final AtomicInteger pendingCount = new AtomicInteger();
    private final List<Pending> pending = new ArrayList<>();
    private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
    private KafkaConsumer<byte[], byte[]> consumer;
    private ConsumerLoop loop;
    private Instant firstPendingAt;

    private record Pending(TopicPartition partition, Violation violation) {}

    public ViolationWriter(
            DataSource dataSource,
            WriteGate gate,
            KafkaClients clients,
            String topic,
            MeterRegistry registry,
            Clock clock) {
        this.clock = clock;
        this.database = RetryPolicy.RECOVERY.recovery(clock);
        this.dataSource = dataSource;
        this.gate = gate;
        this.clients = clients;
        this.topic = topic;
        this.written = Counter.builder("sluice.violations.written")
                .description("Violations stored in the violations table")
                .register(registry);
        this.failures = Counter.builder("sluice.violations.write.failures")
                .description("Failed attempts to store a batch of violations")
                .register(registry);
        this.unreadable = Counter.builder("sluice.violations.unreadable")
                .description("Records on the violations topic that are not violations (skipped)")
                .register(registry);
        registry.gauge("sluice.violations.pending", pendingCount);
    }

    @Override
    public synchronized void start() {
        if (loop != null) return;
        ViolationsTopic.ensure(clients, topic);
        consumer = clients.consumer(Map.of(
                ConsumerConfig.GROUP_ID_CONFIG,
                GROUP_ID,
                ConsumerConfig.CLIENT_ID_CONFIG,
                "sluice-violation-writer",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                50, // each record holds up to Violation.PER_RECORD violations
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
                10_000,
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG,
                3_000));
        consumer.subscribe(List.of(topic), new Rebalance());
        loop = new ConsumerLoop(
                "sluice-violation-writer",
                consumer,
                new ConsumerLoop.Body() {
                    @Override
                    public void pollOnce() {
                        ViolationWriter.this.pollOnce();
                    }

                    @Override
                    public void beforeClose() {
                        if (!pending.isEmpty())
                            flush(); // one last try; what stays unwritten is read again by the next owner
                    }
                },
                clock);
        loop.start();
        log.info("Violation writer started on topic {}", topic);
    }

    private void pollOnce() {
        // Bounded memory: stop fetching while a full batch waits for the database.
        if (pending.size() >= BATCH_SIZE) consumer.pause(consumer.assignment());
        else if (!consumer.paused().isEmpty()) consumer.resume(consumer.paused());
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            nextOffsets.put(partition, record.offset() + 1);
            try {
                List<Violation> violations = Violation.fromJson(record.value());
                if (pending.isEmpty()) firstPendingAt = clock.instant();
                for (Violation violation : violations) pending.add(new Pending(partition, violation));
            } catch (IllegalArgumentException e) {
                unreadable.increment();
                log.warn(
                        "Skipping record {}-{}@{}: {}",
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        e.getMessage());
            }
        }
        pendingCount.set(pending.size());
        boolean due = pending.size() >= BATCH_SIZE
                || (!pending.isEmpty() && !clock.instant().isBefore(firstPendingAt.plus(MAX_WAIT)))
                || (pending.isEmpty() && !nextOffsets.isEmpty());
        if (due && database.due()) flush();
    }

    /** Stores the pending violations in one transaction, then commits the offsets read so far. */
    private boolean flush() {
        try {
            if (!pending.isEmpty())
                insert(pending.stream().map(Pending::violation).toList());
        } catch (SQLException | RuntimeException e) {
            failures.increment();
            boolean first = database.failures() == 0;
            // Held by the gate (no statement sent): retry soon; a failing database gets the recovery backoff.
            Duration delay =
                    e instanceof WriteHeldException ? database.failed(Duration.ofMillis(200)) : database.failed();
            if (e instanceof WriteHeldException) {
                if (first)
                    log.info(
                            "Holding {} violation(s) until queue-database writes resume: {}",
                            pending.size(),
                            e.getMessage());
            } else if (first || database.atCap()) {
                log.warn(
                        "Could not store {} violation(s); retrying in {} ms: {}",
                        pending.size(),
                        delay.toMillis(),
                        Failures.describeQueueDatabaseFailure(e));
            }
            return false;
        }
        if (database.succeeded()) log.info("Violations stored again after a database problem");
        written.increment(pending.size());
        pending.clear();
        pendingCount.set(0);
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        nextOffsets.forEach((partition, offset) -> offsets.put(partition, new OffsetAndMetadata(offset)));
        try {
            try {
                consumer.commitSync(offsets);
            } catch (WakeupException e) { // close() woke the consumer; the wake-up is used up, so commit once more
                consumer.commitSync(offsets);
            }
            nextOffsets.clear();
        } catch (
                RuntimeException
                        e) { // stored already: tried again at the next flush, else the next owner stores them again
            log.warn("Could not commit violation offsets: {}", e.toString());
        }
        return true;
    }

    /** One transaction; one multi-row INSERT per {@link #BATCH_SIZE} rows. */
    private void insert(List<Violation> violations) throws SQLException {
        // The gate counts this insert while it runs: a paused process is quiesced only once it is over.
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW)) {
            Transactions.run(dataSource, c -> {
                try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                    for (int from = 0; from < violations.size(); from += BATCH_SIZE) {
                        insert(c, ps, violations.subList(from, Math.min(violations.size(), from + BATCH_SIZE)));
                    }
                }
            });
        }
    }

    private void insert(Connection c, PreparedStatement ps, List<Violation> violations) throws SQLException {
        Function<Function<Violation, String>, Object[]> column =
                f -> violations.stream().map(v -> clean(f.apply(v))).toArray();
        ps.setTimestamp(1, Timestamp.from(clock.instant()));
        ps.setArray(2, c.createArrayOf("text", column.apply(Violation::sourceId)));
        ps.setArray(3, c.createArrayOf("text", column.apply(Violation::messageId)));
        ps.setArray(4, c.createArrayOf("text", column.apply(Violation::eventType)));
        ps.setArray(5, c.createArrayOf("text", column.apply(Violation::eventName)));
        ps.setArray(6, c.createArrayOf("text", column.apply(Violation::rule)));
        ps.setArray(7, c.createArrayOf("text", column.apply(Violation::path)));
        ps.setArray(8, c.createArrayOf("text", column.apply(Violation::message)));
        ps.setArray(9, c.createArrayOf("text", column.apply(Violation::action)));
        ps.setArray(10, c.createArrayOf("text", column.apply(v -> v.occurredAt().toString())));
        int inserted = ps.executeUpdate();
        if (inserted != violations.size())
            throw new SQLException("stored " + inserted + " of " + violations.size() + " violations");
    }

    /** PostgreSQL text cannot hold NUL; event names and paths come from clients, so they are also capped. */
    private static String clean(String text) {
        if (text == null) return null;
        String cleaned = text.indexOf('\u0000') >= 0 ? text.replace("\u0000", "") : text;
        return cleaned.length() > MAX_TEXT ? cleaned.substring(0, MAX_TEXT) : cleaned;
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Store what was read while the partitions are still ours; if that fails, the next owner reads it again.
            if (!pending.isEmpty() || !nextOffsets.isEmpty()) flush();
            pending.removeIf(p -> partitions.contains(p.partition()));
            partitions.forEach(nextOffsets::remove);
            pendingCount.set(pending.size());
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
    }

    @Override
    public void close() {
        ConsumerLoop l;
        synchronized (this) {
            l = loop;
            if (l == null || !l.running()) return;
        }
        l.close();
        log.info("Violation writer stopped");
    }
}
