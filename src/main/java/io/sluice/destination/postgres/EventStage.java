package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.Identifiers.quote;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One temporary staging table shared by several event tables of a batch: a column {@code "t"} saying which table a
 * row is for, and one text column per distinct column name ({@code "c0"}, {@code "c1"}, …). Values are written in
 * the text form of their target column's type and cast back by the INSERT. One staging table and one COPY for a
 * whole batch instead of one per table: creating temp tables is most of the fixed cost per table.
 */
final class EventStage {
    /** Staging tables stay well below PostgreSQL's 1,600 columns; a batch with more distinct names gets several. */
    static final int MAX_COLUMNS = 1_000;

    final String name;
    final List<TableRows> tables = new ArrayList<>();
    private final Map<String, Integer> columns = new LinkedHashMap<>();

    private EventStage(String name) {
        this.name = name;
    }

    /** Groups the (sorted) event tables into as few staging tables as the column limit allows. */
    static List<EventStage> plan(List<TableRows> eventTables) {
        List<EventStage> stages = new ArrayList<>();
        EventStage current = null;
        for (TableRows rows : eventTables) {
            if (current == null || current.columnsAfterAdding(rows) > MAX_COLUMNS && !current.tables.isEmpty()) {
                current = new EventStage("sluice_stage_" + stages.size());
                stages.add(current);
            }
            current.tables.add(rows);
            for (String column : rows.columns().keySet()) current.columns.putIfAbsent(column, current.columns.size());
        }
        return stages;
    }

    private int columnsAfterAdding(TableRows rows) {
        int added = 0;
        for (String column : rows.columns().keySet()) if (!columns.containsKey(column)) added++;
        return columns.size() + added;
    }

    String createSql() {
        StringBuilder sql =
                new StringBuilder("CREATE TEMP TABLE ").append(quote(name)).append(" (\"t\" integer");
        for (int i = 0; i < columns.size(); i++) sql.append(", \"c").append(i).append("\" text");
        return sql.append(") ON COMMIT DROP").toString();
    }

    String copySql() {
        return "COPY pg_temp." + quote(name) + " FROM STDIN WITH (FORMAT csv)";
    }

    /** The insert of one of this stage's tables; a messageId already there is skipped. */
    String insertSql(String schema, TableRows rows, Map<String, ColumnType> types) {
        StringBuilder target = new StringBuilder();
        StringBuilder select = new StringBuilder();
        for (String column : rows.columns().keySet()) {
            target.append(quote(column)).append(", ");
            select.append("\"c")
                    .append(columns.get(column))
                    .append("\"::")
                    .append(types.get(column).sql)
                    .append(", ");
        }
        return "INSERT INTO " + quote(schema) + "." + quote(rows.table) + " (" + target + "\"uuid_ts\") SELECT "
                + select + "now() FROM pg_temp." + quote(name) + " WHERE \"t\" = " + tables.indexOf(rows)
                + " ON CONFLICT (\"id\") DO NOTHING";
    }

    /** Writes the staged rows of all this stage's tables: {@code t}, then each value at its stage column. */
    void csv(Map<String, Map<String, ColumnType>> types, CsvOut out) throws SQLException {
        String[] line = new String[columns.size()];
        for (int t = 0; t < tables.size(); t++) {
            TableRows rows = tables.get(t);
            Map<String, ColumnType> tableTypes = types.get(rows.table);
            List<String> names = rows.names();
            int[] at = new int[names.size()];
            boolean[] asText = new boolean[names.size()];
            for (int i = 0; i < at.length; i++) {
                at[i] = columns.get(names.get(i));
                asText[i] = tableTypes.get(names.get(i)) == ColumnType.TEXT;
            }
            for (Value[] row : rows.rows) {
                Arrays.fill(line, null);
                for (int i = 0; i < row.length; i++) {
                    if (row[i] != null) line[at[i]] = asText[i] ? row[i].text() : row[i].typed();
                }
                out.raw(t);
                for (String text : line) {
                    out.comma();
                    if (text != null) out.quotedText(text);
                }
                out.newline();
            }
        }
    }
}
