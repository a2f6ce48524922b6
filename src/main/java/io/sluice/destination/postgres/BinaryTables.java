package io.sluice.destination.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Which event tables a load writes in binary COPY, and the check that makes that safe: binary data is not converted
 * by the server, so the columns must be of exactly the types the schema cache says (docs/warehouse.md, "Loading").
 */
final class BinaryTables {
    private BinaryTables() {}

    /** Each column's type when binary COPY can write them all, else null. */
    static ColumnType[] types(TableRows rows, Map<String, ColumnType> types) {
        List<String> names = rows.names();
        ColumnType[] result = new ColumnType[names.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = types == null ? null : types.get(names.get(i));
            if (!BinaryOut.encodes(result[i])) return null;
        }
        return result;
    }

    /**
     * Refuses the load with 42804 (datatype mismatch: the schema cache is dropped and the batch retried at once, see
     * {@link WarehouseDestination}) when a column to be written in binary is not of the type the cache says, or gone.
     */
    static void check(
            Connection c, String schema, SortedMap<String, TableRows> tables, Map<String, ColumnType[]> binaryTypes)
            throws SQLException {
        Map<String, Integer> actual = new HashMap<>();
        try (PreparedStatement ps =
                c.prepareStatement("SELECT c.relname, a.attname, a.atttypid::int FROM pg_attribute a"
                        + " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                        + " WHERE n.nspname = ? AND c.relname = ANY (?) AND a.attnum > 0 AND NOT a.attisdropped")) {
            ps.setString(1, schema);
            ps.setArray(2, c.createArrayOf("text", binaryTypes.keySet().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) actual.put(rs.getString(1) + "\0" + rs.getString(2), rs.getInt(3));
            }
        }
        for (Map.Entry<String, ColumnType[]> table : binaryTypes.entrySet()) {
            List<String> names = tables.get(table.getKey()).names();
            ColumnType[] expected = table.getValue();
            for (int i = 0; i <= expected.length; i++) {
                String column = i < expected.length ? names.get(i) : "uuid_ts";
                int oid = typeOid(i < expected.length ? expected[i] : ColumnType.TIMESTAMPTZ);
                Integer found = actual.get(table.getKey() + "\0" + column);
                if (found == null || found != oid) {
                    throw new SQLException(
                            "column " + column + " of " + schema + "." + table.getKey() + " is not of the type cached",
                            "42804");
                }
            }
        }
    }

    /** The type OIDs of PostgreSQL's built-in types Sluice creates (fixed in pg_type.dat). */
    private static int typeOid(ColumnType type) {
        return switch (type) {
            case BOOLEAN -> 16;
            case BIGINT -> 20;
            case DOUBLE -> 701;
            case TIMESTAMPTZ -> 1184;
            case TEXT -> 25;
            case JSONB -> 3802;
            case OTHER -> throw new IllegalArgumentException("no binary form for a column of another type");
        };
    }
}
