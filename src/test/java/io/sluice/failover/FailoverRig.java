package io.sluice.failover;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import io.sluice.support.PostgresCluster;
import io.sluice.support.TcpProxy;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every failover scenario needs: a real primary + hot standby behind a switchable proxy (the "cluster
 * endpoint"), one Sluice process with every role whose queue database is that endpoint (instances watched
 * directly), a warehouse on a separate server, and continuous load through the collector.
 */
final class FailoverRig implements AutoCloseable {
    final PostgresCluster cluster = new PostgresCluster().start();
    final TcpProxy proxy = new TcpProxy(cluster.primaryPort());
    final String warehouseUrl = TestPostgres.createDatabase("failover_wh");
    final Path configFile;
    final Sluice sluice;
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    final AtomicInteger httpErrors = new AtomicInteger();
    private volatile boolean loading;
    private Thread load;

    FailoverRig(Path dir) throws Exception {
        String id = UUID.randomUUID().toString();
        configFile = dir.resolve("sluice.yaml");
        Files.writeString(configFile, """
                kafka: {bootstrapServers: "%s", eventsTopic: failover-%s, partitions: 4, controlTopic: control-%s}
                postgres:
                  url: "jdbc:postgresql://127.0.0.1:%d/sluice"
                  user: sluice
                  instances: ["%s", "%s"]
                  writeHold: 2s
                  probeInterval: 250ms
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_failover}]
                destinations: [{id: warehouse, type: postgres, url: "%s", user: sluice}]
                syncs: [{id: web-to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 50, maxAge: 200ms}}]
                planner: {groupId: failover-%s}
                worker: {concurrency: 2, pollInterval: 50ms, leaseDuration: 5s, heartbeatInterval: 1s, retryBase: 200ms, retryCap: 2s}
                """.formatted(TestKafka.bootstrapServers(), id, id, proxy.port(), cluster.jdbcUrl(cluster.primaryPort()),
                cluster.jdbcUrl(cluster.standbyPort()), warehouseUrl, id));
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
                    ids[i] = "f-" + batch + "-" + i + "-" + UUID.randomUUID();
                    body.append(i == 0 ? "" : ",").append("{\"type\":\"track\",\"event\":\"Tick\",\"userId\":\"u").append(i % 7)
                            .append("\",\"messageId\":\"").append(ids[i]).append("\"}");
                }
                try {
                    var response = post(sluice.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_failover"));
                    if (response.statusCode() == 200) acknowledged.addAll(java.util.List.of(ids));
                    else httpErrors.incrementAndGet();
                } catch (RuntimeException e) {
                    httpErrors.incrementAndGet();
                }
                batch++;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    void stopLoad() throws InterruptedException {
        loading = false;
        load.join();
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
        long millis = warehouseScalar("SELECT coalesce((extract(epoch FROM max(received_at)) * 1000)::bigint, 0) FROM web.tracks");
        return Instant.ofEpochMilli(millis);
    }

    private long warehouseScalar(String sql) {
        try (Connection c = DriverManager.getConnection(warehouseUrl, "sluice", ""); var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return 0;
        }
    }

    /**
     * A fingerprint of the queue data on one instance: row counts and latest update times of the batch and
     * planning tables. Any insert, update or delete by Sluice changes it (every write sets updated_at).
     */
    String queueFingerprint(int port) {
        try (Connection c = cluster.connect(port, "sluice");
             var rs = c.createStatement().executeQuery("""
                     SELECT (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '-') FROM batches) || ' ' ||
                            (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '-') FROM planner_progress)""")) {
            rs.next();
            return rs.getString(1);
        } catch (Exception e) {
            return "unreadable: " + e.getMessage();
        }
    }

    Duration sinceAcknowledgedAllDelivered(Instant from) {
        return Duration.between(from, Instant.now());
    }

    @Override
    public void close() {
        try {
            if (load != null) stopLoad();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sluice.close();
        proxy.close();
        cluster.close();
    }
}
