package io.sluice.db;

import io.sluice.config.SluiceConfig.SourceSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;

/**
 * Stores the configured sources in the control tables, so later stages and the admin API can see and edit them.
 * Write keys are stored as SHA-256 digests: the database never holds a usable credential.
 */
public final class ControlTables {
    private ControlTables() {}

    public static void upsertSources(DataSource dataSource, List<SourceSettings> sources) {
        String sql = """
                INSERT INTO sources (id, write_key_sha256) VALUES (?, ?)
                ON CONFLICT (id) DO UPDATE SET write_key_sha256 = EXCLUDED.write_key_sha256, updated_at = now()
                WHERE sources.write_key_sha256 IS DISTINCT FROM EXCLUDED.write_key_sha256""";
        try (Connection c = dataSource.getConnection(); PreparedStatement upsert = c.prepareStatement(sql)) {
            for (SourceSettings source : sources) {
                upsert.setString(1, source.id());
                upsert.setString(2, source.writeKeyDigest());
                upsert.addBatch();
            }
            upsert.executeBatch();
        } catch (SQLException e) {
            throw new IllegalStateException("Could not store sources in the queue database: " + e.getMessage(), e);
        }
    }

}
