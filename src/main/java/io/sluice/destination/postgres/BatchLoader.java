package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.Identifiers.quote;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.StringJoiner;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * Loads one batch inside the caller's transaction (docs/warehouse.md, "Loading").
 *
 * <p>Fast path: each event table gets one {@code COPY … FROM STDIN (FORMAT binary)} (CSV for a table with a
 * column of a type Sluice did not create) straight into the table (the
 * batch's messageIds are already unique per table, see {@link TableRows}); users are merged through their staging
 * table ({@link UserStage}). The primary key is the exactly-once guard: if any messageId is already in a table (a
 * re-delivered or replayed batch, a client retry that landed in an earlier batch) the COPY fails with 23505, the
 * transaction is rolled back and the batch is loaded by the staged path instead — one staging table for the event
 * tables ({@link EventStage}) and {@code INSERT … SELECT … ON CONFLICT (id) DO NOTHING}, which skips the rows
 * already there. Either way the batch is all or nothing, and tables are written in name order so concurrent loads
 * take their locks in the same order.
 */
final class BatchLoader {
    /**
     * Off only in the focused harness ({@code WarehouseLoadBench}), which alternates binary and CSV loads to measure
     * the two formats in the same conditions; always on in Sluice.
     */
    static volatile boolean binaryCopy = true;

    /** The state of a unique violation: some messageId of the batch is already loaded. */
    static final String UNIQUE_VIOLATION = "23505";

    private BatchLoader() {}

    /** How the batch went in. */
    enum Path {
        DIRECT,
        STAGED
    }

    static Path load(
            Connection c,
            String schema,
            SortedMap<String, TableRows> tables,
            Map<String, Map<String, ColumnType>> types,
            CsvOut out,
            BinaryOut binary)
            throws SQLException {
        try {
            direct(c, schema, tables, types, out, binary);
            return Path.DIRECT;
        } catch (SQLException e) {
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) throw e;
            c.rollback();
            staged(c, schema, tables, types, out);
            return Path.STAGED;
        }
    }

    /**
     * COPY straight into each event table, in binary (no text for the server to parse) when Sluice knows every
     * column's type, else in CSV; the transaction's now() is written as uuid_ts.
     */
    static void direct(
            Connection c,
            String schema,
            SortedMap<String, TableRows> tables,
            Map<String, Map<String, ColumnType>> types,
            CsvOut out,
            BinaryOut binary)
            throws SQLException {
        TableRows users = null;
        for (TableRows rows : tables.values()) if (rows.users) users = rows;
        UserStage userStage = users == null ? null : new UserStage("sluice_stage_users", users, types.get(users.table));
        // binary COPY trusts the cached column types (an int64 would be read as a double without complaint), so
        // its tables are locked first (in name order, as the COPYs would) and their types checked under the lock
        Map<String, ColumnType[]> binaryTypes = new LinkedHashMap<>();
        for (TableRows rows : tables.values()) {
            ColumnType[] columnTypes =
                    binaryCopy && !rows.users ? BinaryTables.types(rows, types.get(rows.table)) : null;
            if (columnTypes != null) binaryTypes.put(rows.table, columnTypes);
        }
        StringBuilder before = new StringBuilder();
        if (userStage != null) before.append(userStage.createSql()).append(";\n");
        if (!binaryTypes.isEmpty()) {
            StringJoiner locked = new StringJoiner(", ", "LOCK TABLE ", " IN ROW EXCLUSIVE MODE;\n");
            for (String table : binaryTypes.keySet()) locked.add(quote(schema) + "." + quote(table));
            before.append(locked);
        }
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        try (Statement st = c.createStatement()) {
            Now now = transactionTime(st, before.toString());
            if (!binaryTypes.isEmpty()) BinaryTables.check(c, schema, tables, binaryTypes);
            if (userStage != null) copyIn(copy.copyIn(userStage.copySql()), out, o -> userStage.csv(o));
            for (TableRows rows : tables.values()) {
                if (rows.users) {
                    st.execute(userStage.mergeSql(schema));
                    continue;
                }
                ColumnType[] columnTypes = binaryTypes.get(rows.table);
                if (columnTypes != null) {
                    binaryCopyIn(
                            copy.copyIn(copySql(schema, rows, "binary")),
                            binary,
                            b -> binaryRows(rows, columnTypes, now.epochMicros, b));
                } else {
                    Map<String, ColumnType> tableTypes = types.get(rows.table);
                    copyIn(copy.copyIn(copySql(schema, rows, "csv")), out, o -> rows(rows, tableTypes, now.text, o));
                }
            }
        }
    }

    /** The transaction's now(): as text for CSV, in microseconds since the Unix epoch for binary COPY. */
    private record Now(String text, long epochMicros) {}

    /** Runs {@code before} (if any) and reads now() in the same round trip. */
    private static Now transactionTime(Statement st, String before) throws SQLException {
        // whole seconds, then the microseconds within them: exact on every server version (extract() returned a
        // double before PostgreSQL 14)
        boolean isQuery = st.execute(before
                + "SELECT now()::text, extract(epoch FROM date_trunc('second', now()))::bigint * 1000000"
                + " + extract(microseconds FROM now())::bigint % 1000000");
        while (!isQuery) {
            if (st.getUpdateCount() == -1) throw new SQLException("SELECT now() returned nothing");
            isQuery = st.getMoreResults();
        }
        try (ResultSet rs = st.getResultSet()) {
            rs.next();
            return new Now(rs.getString(1), rs.getLong(2));
        }
    }

    /** The rows of one event table in its own column order, then uuid_ts. */
    private static void binaryRows(TableRows rows, ColumnType[] types, long nowMicros, BinaryOut out)
            throws SQLException {
        int width = types.length;
        for (Value[] row : rows.rows) {
            out.row(width + 1);
            for (int i = 0; i < width; i++) {
                Value value = i < row.length ? row[i] : null;
                if (value == null) out.nullField();
                else out.value(value, types[i]);
            }
            out.timestampMicros(nowMicros);
        }
    }

    /** The rows of one event table in its own column order, then uuid_ts. */
    private static void rows(TableRows rows, Map<String, ColumnType> types, String now, CsvOut out)
            throws SQLException {
        List<String> names = rows.names();
        int width = names.size();
        boolean[] asText = new boolean[width];
        for (int i = 0; i < width; i++) asText[i] = types.get(names.get(i)) == ColumnType.TEXT;
        for (Value[] row : rows.rows) {
            for (int i = 0; i < width; i++) {
                Value value = i < row.length ? row[i] : null;
                if (value != null) out.quoted(value, asText[i]);
                out.comma();
            }
            out.raw(now);
            out.newline();
        }
    }

    private static String copySql(String schema, TableRows rows, String format) {
        StringBuilder sql = new StringBuilder("COPY ")
                .append(quote(schema))
                .append('.')
                .append(quote(rows.table))
                .append(" (");
        for (String column : rows.names()) sql.append(quote(column)).append(", ");
        return sql.append("\"uuid_ts\") FROM STDIN WITH (FORMAT ")
                .append(format)
                .append(')')
                .toString();
    }

    /** The staged path: a staging table, then INSERT … ON CONFLICT (id) DO NOTHING per table. */
    static void staged(
            Connection c,
            String schema,
            SortedMap<String, TableRows> tables,
            Map<String, Map<String, ColumnType>> types,
            CsvOut out)
            throws SQLException {
        List<TableRows> eventTables = new ArrayList<>();
        TableRows users = null;
        for (TableRows rows : tables.values()) {
            if (rows.users) users = rows;
            else eventTables.add(rows);
        }
        List<EventStage> stages = EventStage.plan(eventTables);
        UserStage userStage = users == null ? null : new UserStage("sluice_stage_users", users, types.get(users.table));
        StringBuilder create = new StringBuilder();
        for (EventStage stage : stages) create.append(stage.createSql()).append(";\n");
        if (userStage != null) create.append(userStage.createSql()).append(";\n");
        // inserts in table-name order, whichever stage holds them: every worker takes row locks in the same order
        StringBuilder insert = new StringBuilder();
        for (TableRows rows : tables.values()) {
            if (rows.users) {
                insert.append(userStage.mergeSql(schema)).append(";\n");
                continue;
            }
            EventStage stage = stages.stream()
                    .filter(s -> s.tables.contains(rows))
                    .findFirst()
                    .orElseThrow();
            insert.append(stage.insertSql(schema, rows, types.get(rows.table))).append(";\n");
        }
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        try (Statement st = c.createStatement()) {
            st.execute(create.toString());
            for (EventStage stage : stages) copyIn(copy.copyIn(stage.copySql()), out, o -> stage.csv(types, o));
            if (userStage != null) copyIn(copy.copyIn(userStage.copySql()), out, o -> userStage.csv(o));
            st.execute(insert.toString());
        }
    }

    private interface Writer {
        void write(CsvOut out) throws SQLException;
    }

    private interface BinaryWriter {
        void write(BinaryOut out) throws SQLException;
    }

    /** As {@link #copyIn}, in binary. */
    private static void binaryCopyIn(CopyIn copy, BinaryOut out, BinaryWriter writer) throws SQLException {
        try {
            writer.write(out.to(copy));
            out.end();
        } catch (SQLException | RuntimeException e) {
            cancel(copy, e);
            throw e;
        }
    }

    private static void cancel(CopyIn copy, Exception e) {
        if (copy.isActive()) {
            try {
                copy.cancelCopy();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
        }
    }

    /** Streams one COPY; a failure while writing cancels it so the connection stays usable for the rollback. */
    private static void copyIn(CopyIn copy, CsvOut out, Writer writer) throws SQLException {
        try {
            writer.write(out.to(copy));
            out.end();
        } catch (SQLException | RuntimeException e) {
            cancel(copy, e);
            throw e;
        }
    }
}
