package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.Identifiers.quote;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The users of one batch (one merged row per user id, see {@link EventMapper}) and their merge into the users
 * table (docs/warehouse.md, "users"). The staging table is typed: column {@code c<i>} holds target column i with
 * the target's type, {@code t<i>} when that trait was set (the identify's timestamp), and {@code new} marks ids
 * this batch inserted.
 */
final class UserStage {
    /** Beyond this many columns the per-column times would not fit PostgreSQL's 1,600: the row's timestamp decides. */
    static final int MAX_TIMED_COLUMNS = 700;

    final String name;
    private final TableRows rows;
    private final List<String> columns;
    private final Map<String, ColumnType> types;
    private final boolean timed;

    UserStage(String name, TableRows rows, Map<String, ColumnType> types) {
        this.name = name;
        this.rows = rows;
        this.columns = List.copyOf(rows.columns().keySet());
        this.types = types;
        this.timed = columns.size() <= MAX_TIMED_COLUMNS;
    }

    String createSql() {
        StringBuilder sql =
                new StringBuilder("CREATE TEMP TABLE ").append(quote(name)).append(" (");
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i > 0 ? ", " : "").append("\"c").append(i).append("\" ").append(types.get(columns.get(i)).sql);
        }
        if (timed)
            for (int i = 0; i < columns.size(); i++)
                sql.append(", \"t").append(i).append("\" timestamp with time zone");
        return sql.append(", \"new\" boolean NOT NULL DEFAULT false) ON COMMIT DROP")
                .toString();
    }

    String copySql() {
        StringBuilder sql =
                new StringBuilder("COPY pg_temp.").append(quote(name)).append(" (");
        for (int i = 0; i < columns.size(); i++)
            sql.append(i > 0 ? ", " : "").append("\"c").append(i).append('"');
        if (timed)
            for (int i = 0; i < columns.size(); i++)
                sql.append(", \"t").append(i).append('"');
        return sql.append(") FROM STDIN WITH (FORMAT csv)").toString();
    }

    /**
     * New ids are inserted; existing rows are then updated per column — a trait set by an identify at least as new
     * as the row's {@code timestamp} replaces the stored value, an older one only fills a column that is still
     * NULL — so a row never regresses when an older identify arrives late. Existing rows are locked in id order
     * first, so concurrent batches cannot deadlock on them.
     */
    String mergeSql(String schema) {
        String users = quote(schema) + "." + quote(rows.table);
        String staged = "pg_temp." + quote(name);
        String id = stageColumn("id");
        String timestamp = stageColumn("timestamp");
        StringBuilder sql = new StringBuilder();
        sql.append("WITH inserted AS (INSERT INTO ")
                .append(users)
                .append(" (")
                .append(targetList())
                .append(", \"uuid_ts\") SELECT ")
                .append(stageList())
                .append(", now() FROM ")
                .append(staged)
                .append(" ORDER BY 1 ON CONFLICT (\"id\") DO NOTHING")
                .append(" RETURNING \"id\") UPDATE ")
                .append(staged)
                .append(" AS s SET \"new\" = true FROM inserted WHERE s.")
                .append(id)
                .append(" = inserted.\"id\";\n");
        sql.append("SELECT count(*) FROM (SELECT 1 FROM ")
                .append(users)
                .append(" u JOIN ")
                .append(staged)
                .append(" s ON u.\"id\" = s.")
                .append(id)
                .append(" WHERE NOT s.\"new\" ORDER BY u.\"id\" FOR UPDATE OF u) locked;\n");
        sql.append("UPDATE ")
                .append(users)
                .append(" AS u SET \"uuid_ts\" = now(), \"timestamp\" = GREATEST(u.\"timestamp\", s.")
                .append(timestamp)
                .append(")");
        for (int i = 0; i < columns.size(); i++) {
            String column = columns.get(i);
            if (column.equals("id") || column.equals("timestamp")) continue;
            String target = quote(column);
            String value = "s.\"c" + i + "\"";
            if (column.equals(Overflow.COLUMN)) {
                sql.append(", ").append(target).append(" = ").append(mergedOverflow(target, value, timestamp));
                continue;
            }
            String setAt = timed && !column.equals("received_at") ? "s.\"t" + i + "\"" : "s." + timestamp;
            sql.append(", ")
                    .append(target)
                    .append(" = CASE WHEN u.\"timestamp\" IS NULL OR ")
                    .append(setAt)
                    .append(" >= u.\"timestamp\"")
                    .append(" THEN COALESCE(")
                    .append(value)
                    .append(", u.")
                    .append(target)
                    .append(") ELSE COALESCE(u.")
                    .append(target)
                    .append(", ")
                    .append(value)
                    .append(") END");
        }
        return sql.append(" FROM ")
                .append(staged)
                .append(" AS s WHERE u.\"id\" = s.")
                .append(id)
                .append(" AND NOT s.\"new\"")
                .toString();
    }

    /**
     * The overflow column merges per top-level trait, by the same rule as a column: the newer identify's traits
     * replace, an older one's only fill what is missing.
     */
    private static String mergedOverflow(String target, String value, String timestamp) {
        String newer = "jsonb_build_object('traits', COALESCE(u." + target + " -> 'traits', '{}') || COALESCE(" + value
                + " -> 'traits', '{}'))";
        String older = "jsonb_build_object('traits', COALESCE(" + value + " -> 'traits', '{}') || COALESCE(u." + target
                + " -> 'traits', '{}'))";
        return "CASE WHEN " + value + " IS NULL THEN u." + target + " WHEN u." + target + " IS NULL THEN " + value
                + " WHEN u.\"timestamp\" IS NULL OR s." + timestamp + " >= u.\"timestamp\" THEN " + newer + " ELSE "
                + older + " END";
    }

    /** The merged users, typed per target column, then when each trait was set. */
    void csv(CsvOut out) throws SQLException {
        ColumnType[] columnTypes = new ColumnType[columns.size()];
        for (int i = 0; i < columnTypes.length; i++) columnTypes[i] = types.get(columns.get(i));
        for (int r = 0; r < rows.rows.size(); r++) {
            Value[] row = rows.rows.get(r);
            for (int i = 0; i < columnTypes.length; i++) {
                if (i > 0) out.comma();
                Value value = i < row.length ? row[i] : null;
                if (value != null) out.quotedText(value.render(columnTypes[i]));
            }
            if (timed) {
                Map<String, Instant> times = rows.times.get(r);
                for (String column : columns) {
                    out.comma();
                    Instant at = times.get(column);
                    if (at != null) out.quoted(at);
                }
            }
            out.newline();
        }
    }

    private String stageColumn(String column) {
        return "\"c" + columns.indexOf(column) + "\"";
    }

    private String targetList() {
        StringBuilder list = new StringBuilder();
        for (String column : columns) list.append(list.isEmpty() ? "" : ", ").append(quote(column));
        return list.toString();
    }

    private String stageList() {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < columns.size(); i++)
            list.append(i > 0 ? ", " : "").append("\"c").append(i).append('"');
        return list.toString();
    }
}
