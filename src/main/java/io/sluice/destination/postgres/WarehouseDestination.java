package io.sluice.destination.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.delivery.PostgresRefusal;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.Destination;
import io.sluice.destination.UserErasure;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads batches into a PostgreSQL warehouse in Segment's schema: one schema per source, a table per event type
 * and per track event name (docs/warehouse.md). Each batch is one transaction; loading it again changes nothing.
 */
final class WarehouseDestination implements Destination, UserErasure {
    private static final Logger log = LoggerFactory.getLogger(WarehouseDestination.class);
    /** The schema cache named a column, table or type that is not (or no longer) what the table has. */
    private static final Set<String> STALE_SCHEMA = Set.of("42703", "42P01", "3F000", "42804");

    private final String id;
    private final String url;
    private final String user;
    private final String password;
    private final int poolSize;
    private final long connectionTimeoutMs;
    private final WarehouseSchema schema;
    /** COPY buffers (64 KB each), reused across loads: at most one per pooled connection is in use. */
    private final Queue<CsvOut> buffers = new ConcurrentLinkedQueue<>();
    /** Binary COPY buffers (64 KB each), reused the same way. */
    private final Queue<BinaryOut> binaryBuffers = new ConcurrentLinkedQueue<>();
    /** Loads that found messageIds already in the warehouse and went the staged way (for tests and debugging). */
    final AtomicLong stagedLoads = new AtomicLong();

    private HikariDataSource pool;

    /** @param columnBudget the columns a table may have before new names go to its overflow column */
    WarehouseDestination(
            String id,
            String url,
            String user,
            String password,
            int poolSize,
            long connectionTimeoutMs,
            int columnBudget,
            Clock clock) {
        this.id = id;
        this.schema = new WarehouseSchema(columnBudget, clock);
        this.url = url;
        this.user = user;
        this.password = password;
        this.poolSize = poolSize;
        this.connectionTimeoutMs = connectionTimeoutMs;
    }

    private static final int PROBE_TIMEOUT_SECONDS = 5;

    /** Starts the pool. An unreachable warehouse is logged, not fatal: deliveries fail retriably until it is back. */
    @Override
    public synchronized void open() {
        if (pool != null) return;
        HikariConfig config = new HikariConfig();
        config.setPoolName("sluice-warehouse-" + id);
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(connectionTimeoutMs);
        config.setInitializationFailTimeout(-1);
        config.setConnectionInitSql("SET TIME ZONE 'UTC'");
        config.addDataSourceProperty("ApplicationName", "sluice-warehouse");
        // A refused password, user, database or TLS set-up is a configuration error (thrown, naming the key);
        // a warehouse that is down or unreachable is not: its deliveries are retried until it is back.
        SQLException unreachable = PostgresRefusal.warehouse(id).probe(url, user, password, PROBE_TIMEOUT_SECONDS);
        pool = new HikariDataSource(config);
        if (unreachable == null) {
            log.info("Warehouse destination {} connected to {} (pool of {})", id, url, poolSize);
        } else {
            log.warn(
                    "Warehouse destination {} cannot reach {} yet ({}); deliveries will be retried",
                    id,
                    url,
                    unreachable.getMessage());
        }
    }

    /**
     * Loads the batch in one transaction. Events that have no place in the warehouse (an unknown type) are reported
     * as failed, each on its own, and the rest is loaded. A deadlock, a serialization failure or a schema that
     * changed under the load is {@link FailureClass#CONFLICT}: the cache of that schema is dropped first, and the
     * worker retries the batch promptly without using an attempt.
     */
    @Override
    public DeliveryReport deliver(DeliveryBatch batch) throws DeliveryException {
        if (batch.events().isEmpty()) return DeliveryReport.delivered();
        EventMapper.Mapped mapped = EventMapper.map(batch.events());
        String schemaName = Identifiers.schema(batch.sourceId());
        long started = System.nanoTime();
        if (!mapped.tables().isEmpty()) {
            try {
                load(schemaName, mapped.tables());
            } catch (SQLException e) {
                String state = e.getSQLState();
                if (STALE_SCHEMA.contains(state)) {
                    log.info("Warehouse schema {} changed under us ({}); re-reading it", schemaName, e.getMessage());
                    schema.invalidate(schemaName);
                    throw DeliveryException.of(
                            FailureClass.CONFLICT, "warehouse schema " + schemaName + " changed: " + e.getMessage(), e);
                }
                if ("40P01".equals(state) || "40001".equals(state)) {
                    throw DeliveryException.of(
                            FailureClass.CONFLICT,
                            "batch " + batch.batchId() + " of sync " + batch.syncId() + " met a concurrent load ("
                                    + state + ")",
                            e);
                }
                throw Failures.classify(e);
            }
        }
        log.debug(
                "Loaded {} events into {} tables of {} in {} ms",
                batch.events().size() - mapped.rejected().size(),
                mapped.tables().size(),
                schemaName,
                (System.nanoTime() - started) / 1_000_000);
        if (mapped.rejected().isEmpty()) return DeliveryReport.delivered(); // one transaction: all or nothing
        List<DeliveryReport.EventFailure> failures = new ArrayList<>();
        for (EventMapper.Rejected rejected : mapped.rejected()) {
            String messageId = rejected.event().path("messageId").asText("");
            failures.add(new DeliveryReport.EventFailure(
                    rejected.event(),
                    DeliveryException.of(
                                    FailureClass.EVENT_DATA,
                                    "not loaded into the warehouse: " + rejected.reason(),
                                    null)
                            .forEvent(messageId),
                    null,
                    null));
        }
        return new DeliveryReport(failures);
    }

    private void load(String schemaName, SortedMap<String, TableRows> tables) throws SQLException {
        HikariDataSource dataSource = pool();
        try (Connection c = dataSource.getConnection()) {
            Map<String, Map<String, ColumnType>> types = new HashMap<>();
            SortedMap<String, TableRows> placed = new TreeMap<>();
            for (TableRows rows : tables.values()) {
                WarehouseSchema.Placed table = schema.ensure(c, schemaName, rows);
                placed.put(rows.table, table.rows());
                types.put(rows.table, table.types());
            }
            c.setAutoCommit(false);
            CsvOut out = buffers.poll();
            if (out == null) out = new CsvOut();
            BinaryOut binary = binaryBuffers.poll();
            if (binary == null) binary = new BinaryOut();
            try {
                BatchLoader.Path path = BatchLoader.load(c, schemaName, placed, types, out, binary);
                c.commit();
                if (path == BatchLoader.Path.STAGED) stagedLoads.incrementAndGet();
                if (path == BatchLoader.Path.STAGED)
                    log.debug("A batch for {} had messageIds already loaded; loaded the others", schemaName);
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                buffers.add(out);
                binaryBuffers.add(binary);
            }
        }
    }

    /** Privacy deletion (docs/privacy.md): the people's rows in the sources' schemas, see {@link WarehouseErasure}. */
    @Override
    public String erase(long requestId, Set<String> sourceIds, List<String> ids) throws SQLException {
        return WarehouseErasure.erase(pool(), sourceIds, ids) + " rows";
    }

    private synchronized HikariDataSource pool() {
        if (pool == null) open();
        return pool;
    }

    @Override
    public synchronized void close() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }
}
