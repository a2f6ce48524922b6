package io.sluice.queue;

import io.sluice.failover.WriteGate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Which syncs an operator paused ({@code sync_pauses}). The claims of batches and retry chains skip a paused sync
 * in their own statement (see {@link QueueStore#claim} and {@link RetryStore#claim}), so a pause takes effect for
 * every worker at its next claim; batches already held finish. Writes pass the process's {@link WriteGate}.
 */
public final class SyncPauseStore {
    /** The claim statements' condition on a batch or retry row aliased {@code alias}. */
    static String notPaused(String alias) {
        return " NOT EXISTS (SELECT 1 FROM sync_pauses sp WHERE sp.sync_id = " + alias + ".sync_id)\n";
    }

    public record Pause(String by, Instant at) {}

    private final DataSource dataSource;
    private final WriteGate gate;

    public SyncPauseStore(DataSource dataSource, WriteGate gate) {
        this.dataSource = dataSource;
        this.gate = gate;
    }

    /** Pauses a sync's delivery (idempotent: a second pause keeps the first one's time). */
    public void pause(String syncId, String by, Instant now) throws SQLException {
        gate.checkWritable();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO sync_pauses (sync_id, paused_by, paused_at) VALUES (?, ?, ?) ON CONFLICT (sync_id) DO NOTHING")) {
            ps.setString(1, syncId);
            ps.setString(2, by);
            ps.setTimestamp(3, Timestamp.from(now));
            ps.executeUpdate();
        }
    }

    /** Resumes a sync's delivery; true when it was paused. */
    public boolean resume(String syncId) throws SQLException {
        gate.checkWritable();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("DELETE FROM sync_pauses WHERE sync_id = ?")) {
            ps.setString(1, syncId);
            return ps.executeUpdate() == 1;
        }
    }

    /** Every paused sync with who paused it and when. */
    public Map<String, Pause> paused() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("SELECT sync_id, paused_by, paused_at FROM sync_pauses ORDER BY sync_id");
                ResultSet rs = ps.executeQuery()) {
            Map<String, Pause> paused = new LinkedHashMap<>();
            while (rs.next())
                paused.put(
                        rs.getString(1),
                        new Pause(rs.getString(2), rs.getTimestamp(3).toInstant()));
            return paused;
        }
    }
}
