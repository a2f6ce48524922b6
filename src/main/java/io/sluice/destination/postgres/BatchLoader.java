package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.Identifiers.quote;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * Loads one batch inside the caller's transaction (docs/warehouse.md, "Loading").
 *
 * <p>Fast path: each event table gets one {@code COPY … FROM STDIN (FORMAT csv)} straight into the table (the
 * batch's messageIds are already unique per table, see {@link TableRows}); users are merged through their staging
 * table ({@link UserStage}). The primary key is the exactly-once guard: if any messageId is already in a table (a
 * re-delivered or replayed batch, a client retry that landed in an earlier batch) the COPY fails with 23505, the
 * transaction is rolled back and the batch is loaded by the staged path instead — one staging table for the event
 * tables ({@link EventStage}) and {@code INSERT … SELECT … ON CONFLICT (id) DO NOTHING}, which skips the rows
 * already there. Either way the batch is all or nothing, and tables are written in name order so concurrent loads
 * take their locks in the same order.
 */
final class BatchLoader {
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
            CsvOut out)
            throws SQLException {
        try {
            direct(c, schema, tables, types, out);
            return Path.DIRECT;
        } catch (SQLException e) {
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) throw e;
            c.rollback();
            staged(c, schema, tables, types, out);
            return Path.STAGED;
        }
    }

    /** COPY straight into each event table; the transaction's now() is written as uuid_ts. */
    static void direct(
            Connection c,
            String schema,
            SortedMap<String, TableRows> tables,
            Map<String, Map<String, ColumnType>> types,
            CsvOut out)
            throws SQLException {
        TableRows users = null;
        for (TableRows rows : tables.values()) if (rows.users) users = rows;
        UserStage userStage = users == null ? null : new UserStage("sluice_stage_users", users, types.get(users.table));
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        try (Statement st = c.createStatement()) {
            String now = transactionTime(st, userStage == null ? "" : userStage.createSql() + ";\n");
            if (userStage != null) copyIn(copy.copyIn(userStage.copySql()), out, o -> userStage.csv(o));
            for (TableRows rows : tables.values()) {
                if (rows.users) st.execute(userStage.mergeSql(schema));
                else copyIn(copy.copyIn(copySql(schema, rows)), out, o -> rows(rows, types.get(rows.table), now, o));
            }
        }
    }

    /** Runs {@code before} (if any) and reads now() in the same round trip. */
    private static String transactionTime(Statement st, String before) throws SQLException {
        boolean isQuery = st.execute(before + "SELECT now()::text");
        while (!isQuery) {
            if (st.getUpdateCount() == -1) throw new SQLException("SELECT now() returned nothing");
            isQuery = st.getMoreResults();
        }
        try (ResultSet rs = st.getResultSet()) {
            rs.next();
            return rs.getString(1);
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

    private static String copySql(String schema, TableRows rows) {
        StringBuilder sql = new StringBuilder("COPY ")
                .append(quote(schema))
                .append('.')
                .append(quote(rows.table))
                .append(" (");
        for (String column : rows.names()) sql.append(quote(column)).append(", ");
        return sql.append("\"uuid_ts\") FROM STDIN WITH (FORMAT csv)").toString();
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

    /** Streams one COPY; a failure while writing cancels it so the connection stays usable for the rollback. */
    private static void copyIn(CopyIn copy, CsvOut out, Writer writer) throws SQLException {
        try {
            writer.write(out.to(copy));
            out.end();
        } catch (SQLException | RuntimeException e) {
            if (copy.isActive()) {
                try {
                    copy.cancelCopy();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }
}
