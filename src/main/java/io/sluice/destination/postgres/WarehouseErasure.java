package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.Identifiers.quote;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * Deletes people's rows from the warehouse (docs/privacy.md): in the schema of each given source, every row of every
 * event table whose {@code user_id} or {@code anonymous_id} (and, in {@code aliases}, {@code previous_id}) is one of
 * the ids, and their {@code users} rows. Ids are compared as the loader stored them: text columns hold U+0000 as
 * {@code \u0000} (see {@link Value}), and {@code users.id} is the {@link StoredIds#storedId stored id} (hashed when
 * long). One transaction per schema, so a failure leaves that schema as it was and the retry deletes all.
 */
final class WarehouseErasure {
    private WarehouseErasure() {}

    /** @return the rows deleted */
    static long erase(DataSource dataSource, Set<String> sourceIds, List<String> ids) throws SQLException {
        Set<String> texts = new LinkedHashSet<>();
        Set<String> stored = new LinkedHashSet<>();
        for (String id : ids) {
            if (id.isEmpty()) continue;
            texts.add(id.indexOf('\0') >= 0 ? id.replace("\0", "\\u0000") : id);
            stored.add(StoredIds.storedId(id));
        }
        long deleted = 0;
        try (Connection c = dataSource.getConnection()) {
            for (String source : sourceIds) deleted += eraseSchema(c, Identifiers.schema(source), texts, stored);
        }
        return deleted;
    }

    private static long eraseSchema(Connection c, String schema, Set<String> texts, Set<String> stored)
            throws SQLException {
        Map<String, List<String>> idColumns = idColumns(c, schema);
        if (idColumns.isEmpty()) return 0;
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            long deleted = 0;
            Array textArray = c.createArrayOf("text", texts.toArray());
            for (Map.Entry<String, List<String>> table : idColumns.entrySet()) {
                if (table.getKey().equals("users")) continue;
                List<String> conditions = new ArrayList<>();
                for (String column : table.getValue()) conditions.add(quote(column) + " = ANY(?)");
                String sql = "DELETE FROM " + quote(schema) + "." + quote(table.getKey()) + " WHERE "
                        + String.join(" OR ", conditions);
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    for (int i = 1; i <= conditions.size(); i++) ps.setArray(i, textArray);
                    deleted += ps.executeUpdate();
                }
            }
            if (idColumns.containsKey("users")) {
                try (PreparedStatement ps =
                        c.prepareStatement("DELETE FROM " + quote(schema) + ".\"users\" WHERE id = ANY(?)")) {
                    ps.setArray(1, c.createArrayOf("text", stored.toArray()));
                    deleted += ps.executeUpdate();
                }
            }
            c.commit();
            return deleted;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /**
     * The schema's tables with the columns that name a person: {@code user_id} and {@code anonymous_id} in event
     * tables, {@code previous_id} in {@code aliases} only (elsewhere it would be a payload column), and
     * {@code users} (by its id).
     */
    private static Map<String, List<String>> idColumns(Connection c, String schema) throws SQLException {
        Map<String, List<String>> tables = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT table_name, column_name FROM information_schema.columns
                WHERE table_schema = ? AND column_name IN ('user_id', 'anonymous_id', 'previous_id', 'id')
                  AND table_name <> ?
                ORDER BY table_name, column_name""")) {
            ps.setString(1, schema);
            ps.setString(2, ColumnMappings.TABLE);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String table = rs.getString(1);
                    String column = rs.getString(2);
                    boolean personColumn = column.equals("user_id")
                            || column.equals("anonymous_id")
                            || (column.equals("previous_id") && table.equals("aliases"))
                            || (column.equals("id") && table.equals("users"));
                    if (personColumn)
                        tables.computeIfAbsent(table, t -> new ArrayList<>()).add(column);
                }
            }
        }
        // a table with only an 'id' is not an event table of Sluice's (users is handled by its id)
        tables.entrySet()
                .removeIf(e -> !e.getKey().equals("users") && e.getValue().isEmpty());
        return tables;
    }
}
