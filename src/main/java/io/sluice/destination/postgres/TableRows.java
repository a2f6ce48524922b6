package io.sluice.destination.postgres;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rows one batch brings to one warehouse table, and the kinds of value each column received. A row is an
 * array indexed by column position (first-seen order), so writing the COPY data needs no lookup per value. Event
 * tables keep the first row of each messageId only: the table's primary key would refuse the second in one COPY.
 */
final class TableRows {
    final String table;
    final boolean users;
    /** Per row, the value of column i at index i; rows may be shorter than {@link #width()} (trailing NULLs). */
    final List<Value[]> rows = new ArrayList<>();
    /** users only: per row, when each trait column's value was set (the identify's timestamp). */
    final List<Map<String, Instant>> times = new ArrayList<>();

    private final Map<String, Integer> index = new HashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<Set<Value.Kind>> kinds = new ArrayList<>();
    private final Set<String> ids = new HashSet<>();
    /** Each payload origin of the batch and the column its name gives (one per origin: names are pure). */
    private final Map<ColumnOrigin, String> origins = new LinkedHashMap<>();

    private Map<String, Set<Value.Kind>> columns;

    TableRows(String table, boolean users) {
        this.table = table;
        this.users = users;
    }

    /**
     * Adds the row unless an earlier row of this batch had its id (event tables); returns whether it was added. A
     * row that might not fit a heap page keeps its payload in the overflow column instead (see {@link Overflow}).
     */
    boolean add(Map<String, Value> row) {
        if (!users) {
            Value id = row.get("id");
            if (id != null && !ids.add(id.text())) return false;
        }
        if (Overflow.tooWide(row.values())) row = moved(row, null);
        for (Map.Entry<String, Value> column : row.entrySet()) {
            ColumnOrigin origin = column.getValue().origin();
            if (origin != null) origins.putIfAbsent(origin, column.getKey());
        }
        Value[] values = new Value[Math.max(names.size(), row.size())];
        for (Map.Entry<String, Value> column : row.entrySet()) {
            Integer at = index.get(column.getKey());
            if (at == null) {
                at = names.size();
                index.put(column.getKey(), at);
                names.add(column.getKey());
                kinds.add(EnumSet.noneOf(Value.Kind.class));
                columns = null;
            }
            if (at >= values.length) values = Arrays.copyOf(values, Math.max(at + 1, names.size()));
            values[at] = column.getValue();
            kinds.get(at).add(column.getValue().kind());
        }
        rows.add(values);
        return true;
    }

    void add(Map<String, Value> row, Map<String, Instant> valueTimes) {
        add(row);
        times.add(valueTimes);
    }

    /** The payload origins of these rows, each with the column its name gives. */
    Map<ColumnOrigin, String> origins() {
        return Collections.unmodifiableMap(origins);
    }

    /**
     * The same rows with the values of {@code overflow} origins moved into the overflow column (the table has no
     * column for them), or these rows when there are none.
     */
    TableRows relocated(Set<ColumnOrigin> overflow) {
        if (overflow.isEmpty()) return this;
        TableRows placed = new TableRows(table, users);
        for (int r = 0; r < rows.size(); r++) {
            Value[] values = rows.get(r);
            Map<String, Value> row = new LinkedHashMap<>();
            for (int i = 0; i < values.length; i++) if (values[i] != null) row.put(names.get(i), values[i]);
            row = moved(row, overflow);
            if (users) placed.add(row, times.get(r));
            else placed.add(row);
        }
        return placed;
    }

    /** The row with the values of these origins (all payload values when null) in the overflow column. */
    private static Map<String, Value> moved(Map<String, Value> row, Set<ColumnOrigin> overflow) {
        List<Value> moving = new ArrayList<>();
        Map<String, Value> kept = new LinkedHashMap<>();
        for (Map.Entry<String, Value> column : row.entrySet()) {
            ColumnOrigin origin = column.getValue().origin();
            if (origin != null && (overflow == null || overflow.contains(origin))) moving.add(column.getValue());
            else kept.put(column.getKey(), column.getValue());
        }
        if (moving.isEmpty()) return row;
        Value stored = kept.get(Overflow.COLUMN);
        kept.put(Overflow.COLUMN, Overflow.value(Overflow.add(stored == null ? null : Overflow.parse(stored), moving)));
        return kept;
    }

    /** Number of distinct columns. */
    int width() {
        return names.size();
    }

    /** Column names by position. */
    List<String> names() {
        return Collections.unmodifiableList(names);
    }

    /** The value of a column in a row, or null. */
    Value value(int row, String column) {
        Integer at = index.get(column);
        Value[] values = rows.get(row);
        return at == null || at >= values.length ? null : values[at];
    }

    /** Column → the kinds of value it must hold, in first-seen (position) order. */
    Map<String, Set<Value.Kind>> columns() {
        if (columns == null) {
            Map<String, Set<Value.Kind>> map = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) map.put(names.get(i), kinds.get(i));
            columns = Collections.unmodifiableMap(map);
        }
        return columns;
    }
}
