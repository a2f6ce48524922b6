package io.sluice.destination.postgres;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.support.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** A warehouse database of its own, destinations on it, and ways to look at what landed. */
final class WarehouseFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong BATCHES = new AtomicLong();

    final String url;
    private final HikariDataSource query;
    private final List<Destination> destinations = new ArrayList<>();
    final Destination destination;

    WarehouseFixture(String name) {
        url = TestPostgres.createDatabase(name);
        query = TestPostgres.dataSource(url);
        destination = newDestination();
    }

    /** Another destination on the same warehouse: what a second worker process would have (own pool, own cache). */
    Destination newDestination() {
        DestinationSettings.Warehouse settings =
                new DestinationSettings.Warehouse("warehouse", url, TestPostgres.USER, "", 1_000);
        WarehouseDestinationFactory factory = new WarehouseDestinationFactory();
        factory.validate(settings);
        Destination created =
                factory.create(settings, DestinationContext.of(new SimpleMeterRegistry(), Clock.systemUTC()));
        created.open();
        destinations.add(created);
        return created;
    }

    /** Delivers like the worker does: a {@link FailureClass#CONFLICT} is retried at once; the report is returned. */
    DeliveryReport deliver(String source, ObjectNode... events) throws Exception {
        return deliverAsWorker(destination, batch(source, List.of(events)));
    }

    /**
     * The worker's one decision for the warehouse's conflicts (a deadlock, a schema changed under the load): retry
     * promptly without using an attempt. Bounded here so that a conflict that never ends fails the test.
     */
    static DeliveryReport deliverAsWorker(Destination destination, DeliveryBatch batch) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return destination.deliver(batch);
            } catch (DeliveryException e) {
                if (e.failureClass() != FailureClass.CONFLICT || attempt >= 20) throw e;
            }
        }
    }

    static DeliveryBatch batch(String source, List<ObjectNode> events) {
        long id = BATCHES.incrementAndGet();
        return new DeliveryBatch("sync-" + source, source, id, 0, id * 10_000, id * 10_000 + events.size() - 1, events);
    }

    /** Rows as column → value, leaving out NULLs. */
    List<Map<String, Object>> rows(String sql, Object... args) throws SQLException {
        try (Connection c = query.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            try (ResultSet rs = ps.executeQuery()) {
                List<Map<String, Object>> rows = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        if (rs.getObject(i) != null) row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
                    }
                    rows.add(row);
                }
                return rows;
            }
        }
    }

    Object scalar(String sql, Object... args) throws SQLException {
        List<Map<String, Object>> rows = rows(sql, args);
        return rows.isEmpty() ? null : rows.getFirst().values().iterator().next();
    }

    long count(String schema, String table) throws SQLException {
        return ((Number) scalar("SELECT count(*) FROM " + Identifiers.quote(schema) + "." + Identifiers.quote(table)))
                .longValue();
    }

    /** Column name → data_type of a table. */
    Map<String, String> columns(String schema, String table) throws SQLException {
        Map<String, String> columns = new LinkedHashMap<>();
        for (Map<String, Object> row : rows(
                "SELECT column_name, data_type FROM information_schema.columns"
                        + " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                schema,
                table)) {
            columns.put((String) row.get("column_name"), (String) row.get("data_type"));
        }
        return columns;
    }

    /** The schema's event tables (leaving out the mapping table {@code _sluice_columns}). */
    List<String> tables(String schema) throws SQLException {
        return rows(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name <> '_sluice_columns' ORDER BY 1",
                        schema)
                .stream()
                .map(r -> (String) r.get("table_name"))
                .toList();
    }

    void execute(String sql) throws SQLException {
        try (Connection c = query.getConnection();
                var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Override
    public void close() {
        destinations.forEach(Destination::close);
        query.close();
    }

    // ---- events as the collector writes them (docs/record-format.md) ----

    static ObjectNode event(String type, String messageId, String userId, String timestamp) {
        ObjectNode e = JSON.createObjectNode();
        e.put("type", type).put("messageId", messageId);
        if (userId != null) e.put("userId", userId);
        e.put("anonymousId", "anon-" + messageId);
        e.put("timestamp", timestamp)
                .put("originalTimestamp", timestamp)
                .put("sentAt", timestamp)
                .put("receivedAt", timestamp);
        ObjectNode context = e.putObject("context");
        context.put("ip", "203.0.113.9");
        context.putObject("library").put("name", "analytics-java").put("version", "3.5.1");
        e.putObject("integrations").put("All", true);
        e.put("sourceId", "web");
        return e;
    }

    static ObjectNode track(String messageId, String userId, String eventName, String propertiesJson) {
        ObjectNode e = event("track", messageId, userId, "2026-03-01T12:00:00.000Z");
        e.put("event", eventName);
        e.set("properties", parse(propertiesJson));
        return e;
    }

    static ObjectNode identify(String messageId, String userId, String timestamp, String traitsJson) {
        ObjectNode e = event("identify", messageId, userId, timestamp);
        e.set("traits", parse(traitsJson));
        return e;
    }

    static ObjectNode parse(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(json, e);
        }
    }
}
