package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.Identifiers.quote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The mapping table {@code <schema>._sluice_columns} (docs/warehouse.md, "The mapping table"): for every table, which
 * original name (kind and path of keys) went to which column — or to the overflow column {@code _sluice_extra}.
 * Written under the table's advisory lock, in the transaction that adds the columns, so it is never behind them.
 */
final class ColumnMappings {
    static final String TABLE = "_sluice_columns";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ColumnMappings() {}

    /** Creates the table in a new schema (idempotent). The unique index keys long names by their md5. */
    static void create(Statement st, String schema) throws SQLException {
        String table = quote(schema) + "." + quote(TABLE);
        st.execute("CREATE TABLE IF NOT EXISTS " + table + " (table_name text NOT NULL, original_name text NOT NULL,"
                + " kind text NOT NULL, alternate boolean NOT NULL DEFAULT false, column_name text NOT NULL,"
                + " type text NOT NULL, added_at timestamp with time zone NOT NULL DEFAULT now())");
        st.execute("CREATE UNIQUE INDEX IF NOT EXISTS " + quote(TABLE + "_origin") + " ON " + table
                + " (table_name, kind, alternate, md5(original_name))");
    }

    /** Origin → column (or {@code _sluice_extra}) of one table. */
    static Map<ColumnOrigin, String> read(Connection c, String schema, String table) throws SQLException {
        Map<ColumnOrigin, String> placement = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT kind, original_name, alternate, column_name FROM "
                + quote(schema) + "." + quote(TABLE) + " WHERE table_name = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    placement.put(
                            new ColumnOrigin(
                                    ColumnOrigin.Kind.ofLabel(rs.getString(1)),
                                    path(rs.getString(2)),
                                    rs.getBoolean(3)),
                            rs.getString(4));
                }
            }
        }
        return placement;
    }

    /** Records new origins. */
    static void insert(
            Connection c, String schema, String table, Map<ColumnOrigin, String> added, Map<String, ColumnType> types)
            throws SQLException {
        if (added.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + quote(schema) + "." + quote(TABLE)
                + " (table_name, original_name, kind, alternate, column_name, type) VALUES (?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (table_name, kind, alternate, md5(original_name)) DO NOTHING")) {
            for (Map.Entry<ColumnOrigin, String> origin : added.entrySet()) {
                ps.setString(1, table);
                ps.setString(2, origin.getKey().originalName());
                ps.setString(3, origin.getKey().kind().label);
                ps.setBoolean(4, origin.getKey().alternate());
                ps.setString(5, origin.getValue());
                ColumnType type = types.get(origin.getValue());
                ps.setString(6, type == null || type.sql == null ? "text" : type.sql);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Keeps {@code type} true after a column was widened. */
    static void retyped(Connection c, String schema, String table, String column, ColumnType type) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + quote(schema) + "." + quote(TABLE)
                + " SET type = ? WHERE table_name = ? AND column_name = ?")) {
            ps.setString(1, type.sql);
            ps.setString(2, table);
            ps.setString(3, column);
            ps.executeUpdate();
        }
    }

    private static List<String> path(String originalName) throws SQLException {
        try {
            List<String> path = new ArrayList<>();
            for (JsonNode segment : JSON.readTree(originalName)) path.add(segment.textValue());
            return path;
        } catch (Exception e) {
            throw new SQLException("unreadable original_name in " + TABLE + ": " + originalName, e);
        }
    }
}
