package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.Identifiers.quote;

import io.sluice.retry.RetryPolicy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Known column types of the warehouse tables, and the DDL that creates and widens them (docs/warehouse.md,
 * "Schema evolution"). The cache is read without locks; DDL runs in its own short transaction per table, under a
 * transaction-scoped advisory lock for that table, after re-reading the table's columns — so concurrent workers
 * (in this process or others) never race on CREATE/ALTER and never narrow what another one widened.
 */
final class WarehouseSchema {
    private static final Logger log = LoggerFactory.getLogger(WarehouseSchema.class);
    /** Races that a fresh look at the catalog resolves: duplicate column/table/schema, catalog unique index, deadlock. */
    private static final Set<String> RACES = Set.of("42701", "42P07", "42P06", "23505", "40P01", "40001");
    /** Five tries, 10 ms doubling (with jitter) between them: a race is over by the time the winner committed. */
    private static final RetryPolicy RACE_RETRIES =
            RetryPolicy.attempts(5, Duration.ofMillis(10), Duration.ofMillis(160));

    /** users rows grow by merging: at most this many columns, so even a row full of 24-byte values fits a page. */
    static final int USERS_BUDGET = 300;
    /** A table whose mapping has more origins than this is not cached (re-read per batch): hostile names only. */
    private static final int MAX_CACHED_ORIGINS = 50_000;

    /** What is known of one table: its column types, and where each payload origin goes. */
    private record Layout(Map<String, ColumnType> types, Map<ColumnOrigin, String> placement) {}

    /** Rows placed in a table: overflowed values moved to {@code _sluice_extra}; the types of the table's columns. */
    record Placed(TableRows rows, Map<String, ColumnType> types) {}

    private final int columnBudget;
    private final Map<String, Layout> tables = new ConcurrentHashMap<>();
    private final Set<String> schemas = ConcurrentHashMap.newKeySet();
    private final Clock clock;

    /** @param columnBudget the columns a table may have before new names go to the overflow column */
    WarehouseSchema(int columnBudget, Clock clock) {
        this.columnBudget = columnBudget;
        this.clock = clock;
    }

    /**
     * The table's column types once it can hold these rows. Without DDL when the cache already says so (a stale
     * cache can only be narrower than the table, and PostgreSQL casts narrower staging columns on insert).
     * Leaves the connection in auto-commit mode.
     */
    Placed ensure(Connection c, String schema, TableRows rows) throws SQLException {
        Layout cached = tables.get(key(schema, rows.table));
        if (cached != null) {
            Placed placed = place(cached, rows);
            if (placed != null && holds(cached.types, placed.rows)) return placed;
        }
        try {
            return RACE_RETRIES.call(
                    clock,
                    RetryPolicy.Sleeper.THREAD,
                    e -> e instanceof SQLException sql && RACES.contains(sql.getSQLState()),
                    attempt -> {
                        try {
                            return evolve(c, schema, rows);
                        } catch (SQLException e) {
                            rollbackQuietly(c);
                            log.debug(
                                    "Schema change of {}.{} failed ({}, attempt {})",
                                    schema,
                                    rows.table,
                                    e.getSQLState(),
                                    attempt);
                            throw e;
                        } finally {
                            c.setAutoCommit(true);
                        }
                    });
        } catch (SQLException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while retrying a schema change", e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Forgets what is known about a schema (after an insert named a column or table that is not there). */
    void invalidate(String schema) {
        tables.keySet().removeIf(k -> k.startsWith(schema + "."));
        schemas.remove(schema);
    }

    private Placed evolve(Connection c, String schema, TableRows batchRows) throws SQLException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL lock_timeout = '30s'");
            if (!schemas.contains(schema)) {
                advisoryLock(c, "schema " + schema);
                st.execute("CREATE SCHEMA IF NOT EXISTS " + quote(schema));
                ColumnMappings.create(st, schema);
            }
            advisoryLock(c, "table " + key(schema, batchRows.table));
            Map<String, ColumnType> columns = read(c, schema, batchRows.table);
            Map<ColumnOrigin, String> placement = ColumnMappings.read(c, schema, batchRows.table);
            Map<ColumnOrigin, String> added = placeNew(batchRows, columns, placement);
            Set<ColumnOrigin> overflow = new HashSet<>();
            for (ColumnOrigin origin : batchRows.origins().keySet())
                if (Overflow.COLUMN.equals(placement.get(origin))) overflow.add(origin);
            TableRows rows = batchRows.relocated(overflow);
            List<String> changes = new ArrayList<>();
            if (columns.isEmpty()) {
                st.execute(createTable(schema, rows, columns));
            } else {
                for (Map.Entry<String, Set<Value.Kind>> column : rows.columns().entrySet()) {
                    String name = column.getKey();
                    ColumnType existing = columns.get(name);
                    if (existing == null) {
                        ColumnType type = ColumnType.forNew(column.getValue());
                        changes.add("ADD COLUMN IF NOT EXISTS " + quote(name) + " " + type.sql);
                        columns.put(name, type);
                    } else if (!existing.acceptsAll(column.getValue())) {
                        ColumnType type = existing.widenedFor(column.getValue());
                        if (type == ColumnType.DOUBLE && holdsInexactIntegers(c, schema, rows.table, name))
                            type = ColumnType.TEXT;
                        changes.add("ALTER COLUMN " + quote(name) + " TYPE " + type.sql + " USING "
                                + conversion(name, existing, type));
                        columns.put(name, type);
                        ColumnMappings.retyped(c, schema, rows.table, name, type);
                    }
                }
                if (!changes.isEmpty()) {
                    st.execute("ALTER TABLE " + quote(schema) + "." + quote(rows.table) + " "
                            + String.join(", ", changes));
                }
            }
            ColumnMappings.insert(c, schema, rows.table, added, columns);
            c.commit();
            schemas.add(schema);
            if (!changes.isEmpty()) log.info("Warehouse table {}.{}: {}", schema, rows.table, changes);
            Map<String, ColumnType> known = Map.copyOf(columns);
            if (placement.size() <= MAX_CACHED_ORIGINS) {
                tables.put(key(schema, rows.table), new Layout(known, Map.copyOf(placement)));
            } else {
                tables.remove(key(schema, rows.table));
            }
            return new Placed(rows, known);
        }
    }

    /**
     * Decides where each origin the mapping does not know yet goes (docs/warehouse.md, "Column budget"): to the
     * column its name gives, unless that column belongs to another kind of origin or is a hashed name of another
     * original (a hash collision), or it is new and the table already has its budget of columns — then to the
     * overflow column. Adds the decisions to {@code placement} and returns them.
     */
    private Map<ColumnOrigin, String> placeNew(
            TableRows rows, Map<String, ColumnType> columns, Map<ColumnOrigin, String> placement) {
        Map<String, List<ColumnOrigin>> owners = new HashMap<>();
        placement.forEach((origin, column) ->
                owners.computeIfAbsent(column, k -> new ArrayList<>()).add(origin));
        Set<String> created = new HashSet<>(columns.keySet());
        Set<String> payload = new HashSet<>(rows.origins().values());
        for (String column : rows.columns().keySet()) if (!payload.contains(column)) created.add(column); // Sluice's
        created.addAll(Set.of("id", "uuid_ts"));
        int budget = rows.users ? Math.min(columnBudget, USERS_BUDGET) : columnBudget;
        Map<ColumnOrigin, String> added = new LinkedHashMap<>();
        for (Map.Entry<ColumnOrigin, String> entry : rows.origins().entrySet()) {
            ColumnOrigin origin = entry.getKey();
            if (placement.containsKey(origin)) continue;
            String column = entry.getValue();
            List<ColumnOrigin> taken = owners.get(column);
            boolean shared = taken != null && !taken.isEmpty() && !mergeable(taken, origin, column);
            if (shared || (!created.contains(column) && created.size() >= budget)) column = Overflow.COLUMN;
            created.add(column);
            placement.put(origin, column);
            added.put(origin, column);
            owners.computeIfAbsent(column, k -> new ArrayList<>()).add(origin);
        }
        return added;
    }

    /**
     * Whether another original may share a column: only by a conventional merge (docs/warehouse.md, "Naming"
     * rule 1) — the same kind, and a name that was not hashed.
     */
    private static boolean mergeable(List<ColumnOrigin> owners, ColumnOrigin origin, String column) {
        if (Identifiers.isHashed(column)) return false;
        for (ColumnOrigin owner : owners) if (owner.kind() != origin.kind()) return false;
        return true;
    }

    /** The rows placed as the cached layout says, or null if an origin is new to it. */
    private static Placed place(Layout layout, TableRows rows) {
        Set<ColumnOrigin> overflow = null;
        for (ColumnOrigin origin : rows.origins().keySet()) {
            String column = layout.placement.get(origin);
            if (column == null) return null;
            if (column.equals(Overflow.COLUMN)) {
                if (overflow == null) overflow = new HashSet<>();
                overflow.add(origin);
            }
        }
        return new Placed(overflow == null ? rows : rows.relocated(overflow), layout.types);
    }

    private static String createTable(String schema, TableRows rows, Map<String, ColumnType> columns) {
        StringBuilder sql = new StringBuilder("CREATE TABLE IF NOT EXISTS ")
                .append(quote(schema))
                .append('.')
                .append(quote(rows.table))
                .append(" (\"id\" text PRIMARY KEY, \"uuid_ts\" timestamp with time zone");
        columns.put("id", ColumnType.TEXT);
        columns.put("uuid_ts", ColumnType.TIMESTAMPTZ);
        for (Map.Entry<String, Set<Value.Kind>> column : rows.columns().entrySet()) {
            if (columns.containsKey(column.getKey())) continue;
            ColumnType type = ColumnType.forNew(column.getValue());
            sql.append(", ").append(quote(column.getKey())).append(' ').append(type.sql);
            columns.put(column.getKey(), type);
        }
        log.info("Creating warehouse table {}.{} with {} columns", schema, rows.table, columns.size());
        return sql.append(')').toString();
    }

    /** Existing values keep their meaning: timestamps become ISO-8601 text in UTC, everything else its usual text. */
    private static String conversion(String column, ColumnType from, ColumnType to) {
        if (to == ColumnType.TEXT && from == ColumnType.TIMESTAMPTZ) return "to_json(" + quote(column) + ") #>> '{}'";
        return quote(column) + "::" + to.sql;
    }

    private static boolean holdsInexactIntegers(Connection c, String schema, String table, String column)
            throws SQLException {
        String sql = "SELECT EXISTS (SELECT 1 FROM " + quote(schema) + "." + quote(table) + " WHERE " + quote(column)
                + " > " + ColumnType.MAX_EXACT_DOUBLE + " OR " + quote(column) + " < -" + ColumnType.MAX_EXACT_DOUBLE
                + ")";
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    private static Map<String, ColumnType> read(Connection c, String schema, String table) throws SQLException {
        Map<String, ColumnType> columns = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) columns.put(rs.getString(1), ColumnType.fromDataType(rs.getString(2)));
            }
        }
        return columns;
    }

    private static void advisoryLock(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            ps.setLong(1, lockKey(name));
            ps.execute();
        }
    }

    static long lockKey(String name) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(("sluice-warehouse " + name).getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(digest).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean holds(Map<String, ColumnType> columns, TableRows rows) {
        for (Map.Entry<String, Set<Value.Kind>> column : rows.columns().entrySet()) {
            ColumnType type = columns.get(column.getKey());
            if (type == null || !type.acceptsAll(column.getValue())) return false;
        }
        return true;
    }

    private static String key(String schema, String table) {
        return schema + "." + table;
    }

    private static void rollbackQuietly(Connection c) {
        try {
            if (!c.getAutoCommit()) c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the caller sees the original failure
        }
    }
}
