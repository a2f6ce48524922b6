package io.sluice.destination.postgres;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The rows one batch brings to one warehouse table, and the kinds of value each column received. */
final class TableRows {
    final String table;
    final boolean users;
    final List<Map<String, Value>> rows = new ArrayList<>();
    /** users only: per row, when each trait column's value was set (the identify's timestamp). */
    final List<Map<String, Instant>> times = new ArrayList<>();

    private final Map<String, Set<Value.Kind>> kinds = new LinkedHashMap<>();

    TableRows(String table, boolean users) {
        this.table = table;
        this.users = users;
    }

    void add(Map<String, Value> row) {
        rows.add(row);
        for (Map.Entry<String, Value> column : row.entrySet()) {
            kinds.computeIfAbsent(column.getKey(), k -> EnumSet.noneOf(Value.Kind.class))
                    .add(column.getValue().kind());
        }
    }

    void add(Map<String, Value> row, Map<String, Instant> valueTimes) {
        add(row);
        times.add(valueTimes);
    }

    /** Column → the kinds of value it must hold, in first-seen order. */
    Map<String, Set<Value.Kind>> columns() {
        return kinds;
    }
}
