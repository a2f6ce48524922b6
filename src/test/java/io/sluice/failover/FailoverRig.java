package io.sluice.failover;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import io.sluice.support.CountingReceiver;
import io.sluice.support.PostgresCluster;
import io.sluice.support.TcpProxy;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TopicReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * What every failover scenario needs: a real primary + hot standby behind a switchable proxy (the "cluster
 * endpoint"), one Sluice process with every role whose queue database is that endpoint (instances watched
 * directly), and continuous load through the collector. Every kind of queue-database writer is at work: the
 * planner, workers delivering to a warehouse (which dedupes on messageId), to a webhook receiver and a Kafka mirror
 * topic (which dedupe nothing, so second deliveries are counted there), retry chains, dead letters, the contract's
 * violation writer (every event is unplanned) and, with {@code pruneFast}, pruning every second.
 */
final class FailoverRig implements AutoCloseable {
    static final String WAREHOUSE_SYNC = "web-to-warehouse";
    static final String ADMIN_TOKEN = "failover-admin-token";
    final PostgresCluster cluster = new PostgresCluster().start();
    final TcpProxy proxy = new TcpProxy(cluster.primaryPort());
    final CountingReceiver receiver = new CountingReceiver();
    final String warehouseUrl = TestPostgres.createDatabase("failover_wh");
    final String mirrorTopic = TestEvents.createTopic("failover-mirror", 2);
    final String plannerGroup;
    final Path configFile;
    final Sluice sluice;
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    final AtomicInteger httpErrors = new AtomicInteger();
    private volatile boolean loading;
    private Thread load;

    FailoverRig(Path dir) throws Exception {
        this(dir, false);
    }

    FailoverRig(Path dir, boolean pruneFast) throws Exception {
        String id = UUID.randomUUID().toString();
        plannerGroup = "failover-" + id;
        configFile = dir.resolve("sluice.yaml");
        Files.writeString(configFile, """
                kafka: {bootstrapServers: "%s", eventsTopic: failover-%s, partitions: 4, controlTopic: control-%s, violationsTopic: violations-%s}
                postgres:
                  url: "jdbc:postgresql://127.0.0.1:%d/sluice"
                  user: sluice
                  instances: ["%s", "%s"]
                  writeHold: 2s
                  probeInterval: 250ms
                  socketTimeout: 3s
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0, token: %s}
                sources: [{id: web, writeKey: wk_failover, contract: {unplannedEvents: allow, events: {"Planned": {}}}}]
                destinations:
                  - {id: warehouse, type: postgres, url: "%s", user: sluice}
                  - {id: hooks, type: webhook, url: "%s", timeout: 10s, retry: {base: 200ms, cap: 1s, maxAttempts: 50},
                     circuitBreaker: {window: 100000, minimumCalls: 100000, coolDown: 1s}}
                  - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s}
                syncs:
                  - {id: %s, source: web, destination: warehouse, batch: {maxEvents: 50, maxAge: 200ms}}
                  - {id: web-to-hooks, source: web, destination: hooks, batch: {maxEvents: 50, maxAge: 200ms}}
                  - {id: web-to-mirror, source: web, destination: mirror, batch: {maxEvents: 50, maxAge: 200ms}}
                planner: {groupId: %s}
                worker: {concurrency: 4, pollInterval: 50ms, leaseDuration: 5s, heartbeatInterval: 1s, retryBase: 200ms, retryCap: 2s,
                         doneRetention: %s, pruneInterval: %s}
                """.formatted(
                        TestKafka.bootstrapServers(),
                        id,
                        id,
                        id,
                        proxy.port(),
                        cluster.jdbcUrl(cluster.primaryPort()),
                        cluster.jdbcUrl(cluster.standbyPort()),
                        ADMIN_TOKEN,
                        warehouseUrl,
                        receiver.url(),
                        TestKafka.bootstrapServers(),
                        mirrorTopic,
                        WAREHOUSE_SYNC,
                        plannerGroup,
                        pruneFast ? "1s" : "1h",
                        pruneFast ? "1s" : "30s"));
        SluiceConfig config = new ConfigLoader(Map.of()).load(configFile);
        sluice = new Sluice(config, EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC());
        sluice.start();
    }

    /** Sends 20 events every 50 ms until stopped; remembers what got 200 and counts everything else. */
    void startLoad() {
        loading = true;
        load = Thread.ofVirtual().name("failover-load").start(() -> {
            int batch = 0;
            while (loading) {
                StringBuilder body = new StringBuilder("{\"batch\":[");
                String[] ids = new String[20];
                for (int i = 0; i < 20; i++) {
                    ids[i] = "f-" + batch + "-" + i + "-u" + (i % 7) + "-" + UUID.randomUUID();
                    body.append(i == 0 ? "" : ",")
                            .append("{\"type\":\"track\",\"event\":\"Tick\",\"userId\":\"u")
                            .append(i % 7)
                            .append("\",\"messageId\":\"")
                            .append(ids[i])
                            .append("\"}");
                }
                try {
                    var response = post(
                            sluice.collectorUrl() + "/v1/batch",
                            body.append("]}").toString(),
                            "Authorization",
                            basic("wk_failover"));
                    if (response.statusCode() == 200) acknowledged.addAll(List.of(ids));
                    else httpErrors.incrementAndGet();
                } catch (RuntimeException e) {
                    httpErrors.incrementAndGet();
                }
                batch++;
                try {
                    Thread.sleep(50); // wall clock: a paced load, a request every 50 ms
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    void stopLoad() throws InterruptedException {
        loading = false;
        if (load != null) load.join();
    }

    /** Rows in the warehouse's tracks table (0 before it exists). */
    long warehouseRows() {
        return warehouseScalar("SELECT count(*) FROM web.tracks");
    }

    long warehouseDistinctAcknowledged() throws Exception {
        try (Connection c = DriverManager.getConnection(warehouseUrl, "sluice", "");
                var ps = c.prepareStatement("SELECT count(*) FROM web.tracks WHERE id = ANY(?)")) {
            ps.setArray(1, c.createArrayOf("text", acknowledged.toArray()));
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Latest receivedAt loaded, to see delivery resume. */
    Instant latestDelivered() {
        long millis = warehouseScalar(
                "SELECT coalesce((extract(epoch FROM max(received_at)) * 1000)::bigint, 0) FROM web.tracks");
        return Instant.ofEpochMilli(millis);
    }

    private long warehouseScalar(String sql) {
        try (Connection c = DriverManager.getConnection(warehouseUrl, "sluice", "");
                var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return 0;
        }
    }

    /** How many times the mirror topic holds each messageId (a Kafka consumer downstream sees every copy). */
    Map<String, Integer> mirrorCopies(int atLeast) {
        Map<String, Integer> copies = new HashMap<>();
        for (var record :
                TopicReader.read(TestKafka.bootstrapServers(), mirrorTopic, atLeast, Duration.ofSeconds(30))) {
            copies.merge(TopicReader.json(record.value()).path("messageId").asText(), 1, Integer::sum);
        }
        return copies;
    }

    /**
     * A fingerprint of every table of the queue database on one instance: each table's full content, hashed. Any
     * insert, update or delete that committed there changes it.
     */
    String queueFingerprint(int port) {
        try (Connection c = cluster.connect(port, "sluice");
                var s = c.createStatement();
                var tables = s.executeQuery(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")) {
            List<String> names = new ArrayList<>();
            while (tables.next()) names.add(tables.getString(1));
            StringBuilder fingerprint = new StringBuilder();
            for (String table : names) {
                try (var rs = c.createStatement()
                        .executeQuery(
                                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "
                                        + table + " t")) {
                    rs.next();
                    fingerprint
                            .append(table)
                            .append('=')
                            .append(rs.getLong(1))
                            .append('/')
                            .append(rs.getString(2), 0, 8)
                            .append(' ');
                }
            }
            return fingerprint.toString().strip();
        } catch (Exception e) {
            return "unreadable: " + e.getMessage();
        }
    }

    /** The warehouse sync's planning positions on one instance, by partition. */
    Map<Integer, Long> positions(int port) throws Exception {
        Map<Integer, Long> positions = new TreeMap<>();
        try (Connection c = cluster.connect(port, "sluice");
                var ps = c.prepareStatement(
                        "SELECT kafka_partition, next_offset FROM planner_progress WHERE sync_id = ?")) {
            ps.setString(1, WAREHOUSE_SYNC);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) positions.put(rs.getInt(1), rs.getLong(2));
            }
        }
        return positions;
    }

    /** One number from the queue database on one instance. */
    long queueScalar(int port, String sql) throws Exception {
        try (Connection c = cluster.connect(port, "sluice");
                var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The planner group's committed Kafka offsets, by partition (committed only after the database committed). */
    Map<Integer, Long> plannerCommittedOffsets() throws Exception {
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()))) {
            Map<Integer, Long> offsets = new TreeMap<>();
            admin.listConsumerGroupOffsets(plannerGroup)
                    .partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS)
                    .forEach((tp, o) -> {
                        if (o != null) offsets.put(tp.partition(), o.offset());
                    });
            return offsets;
        }
    }

    /** Acknowledged events not (yet) delivered to each sink, and how many each sink got more than once. */
    record Tally(
            long lostWarehouse,
            long lostWebhook,
            long lostMirror,
            long webhookTwice,
            long mirrorTwice,
            long warehouseRows) {
        @Override
        public String toString() {
            return "lost: warehouse " + lostWarehouse + ", webhook " + lostWebhook + ", mirror " + lostMirror
                    + "; delivered twice: webhook " + webhookTwice + ", mirror " + mirrorTwice + "; warehouse rows "
                    + warehouseRows;
        }
    }

    Tally tally() throws Exception {
        Map<String, Integer> hooks = receiver.accepted();
        Map<String, Integer> mirror = mirrorCopies(acknowledged.size());
        return new Tally(
                acknowledged.size() - warehouseDistinctAcknowledged(),
                acknowledged.stream().filter(id -> !hooks.containsKey(id)).count(),
                acknowledged.stream().filter(id -> !mirror.containsKey(id)).count(),
                hooks.values().stream().filter(n -> n > 1).count(),
                mirror.values().stream().filter(n -> n > 1).count(),
                warehouseRows());
    }

    /** Every acknowledged event at every sink (at least once). */
    boolean allDelivered() throws Exception {
        if (warehouseDistinctAcknowledged() != acknowledged.size()) return false;
        if (!receiver.accepted().keySet().containsAll(acknowledged)) return false;
        return true;
    }

    @Override
    public void close() {
        try {
            stopLoad();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sluice.close();
        receiver.close();
        proxy.close();
        cluster.close();
    }
}
