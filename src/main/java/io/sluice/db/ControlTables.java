package io.sluice.db;

import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.config.SluiceConfig.SourceSettings;
import io.sluice.config.SluiceConfig.SyncSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;

/**
 * Stores the configured sources, destinations and syncs in the control tables, so later stages and the admin API can see and edit them.
 * Write keys are stored as SHA-256 digests: the database never holds a usable credential.
 */
public final class ControlTables {
    private ControlTables() {}

    /** Stores sources, destinations and syncs as configured. Rows of entities no longer configured are kept. */
    public static void upsert(DataSource dataSource, SluiceConfig config) {
        upsertSources(dataSource, config.sources());
        String destinations = """
                INSERT INTO destinations (id, type) VALUES (?, ?)
                ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, updated_at = now() WHERE destinations.type <> EXCLUDED.type""";
        String syncs = """
                INSERT INTO syncs (id, source_id, destination_id, filter_types, filter_events) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET source_id = EXCLUDED.source_id, destination_id = EXCLUDED.destination_id,
                    filter_types = EXCLUDED.filter_types, filter_events = EXCLUDED.filter_events, updated_at = now()
                WHERE (syncs.source_id, syncs.destination_id, syncs.filter_types, syncs.filter_events)
                      IS DISTINCT FROM (EXCLUDED.source_id, EXCLUDED.destination_id, EXCLUDED.filter_types, EXCLUDED.filter_events)""";
        try (Connection c = dataSource.getConnection();
                PreparedStatement d = c.prepareStatement(destinations);
                PreparedStatement s = c.prepareStatement(syncs)) {
            for (DestinationSettings destination : config.destinations()) {
                d.setString(1, destination.id());
                d.setString(2, destination.type());
                d.addBatch();
            }
            d.executeBatch();
            for (SyncSettings sync : config.syncs()) {
                s.setString(1, sync.id());
                s.setString(2, sync.source());
                s.setString(3, sync.destination());
                s.setArray(4, c.createArrayOf("text", sync.filterTypes().toArray()));
                s.setArray(5, c.createArrayOf("text", sync.filterEvents().toArray()));
                s.addBatch();
            }
            s.executeBatch();
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "Could not store the configuration in the queue database: " + e.getMessage(), e);
        }
    }

    static void upsertSources(DataSource dataSource, List<SourceSettings> sources) {
        String sql = """
                INSERT INTO sources (id, write_key_sha256) VALUES (?, ?)
                ON CONFLICT (id) DO UPDATE SET write_key_sha256 = EXCLUDED.write_key_sha256, updated_at = now()
                WHERE sources.write_key_sha256 IS DISTINCT FROM EXCLUDED.write_key_sha256""";
        try (Connection c = dataSource.getConnection();
                PreparedStatement upsert = c.prepareStatement(sql)) {
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
