package io.sluice.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** What the virtual queue (the queue database of a running Sluice) says about deliveries still to come. */
public final class QueueState {
    private QueueState() {}

    /**
     * True once no batch row is pending or running and no retry chain is queued: no delivery is left that could
     * still reach a destination, a duplicate included, so counts taken at a receiver are final. (A test that still
     * sends events, or replays dead letters, must wait for those first.)
     */
    public static boolean nothingLeftToDeliver(String queueJdbcUrl) {
        try (Connection c = DriverManager.getConnection(queueJdbcUrl, TestPostgres.USER, "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("""
                        SELECT (SELECT count(*) FROM batches WHERE status IN ('pending', 'running'))
                             + (SELECT count(*) FROM retry_events)""")) {
            rs.next();
            return rs.getLong(1) == 0;
        } catch (SQLException e) {
            throw new IllegalStateException("Could not read the queue at " + queueJdbcUrl, e);
        }
    }
}
