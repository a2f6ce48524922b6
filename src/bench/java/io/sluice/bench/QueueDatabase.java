package io.sluice.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/**
 * The queue database's own statistics for {@code bench functions}: transactions (pg_stat_database) and batch rows
 * inserted and updated (pg_stat_user_tables), so a phase shows whether the queue grows with batches or with events.
 * The server publishes these counters with a delay of up to a second; each read is one transaction of its own.
 */
final class QueueDatabase {
    record Counts(long transactions, long batchInserts, long batchUpdates) {
        Counts minus(Counts before) {
            return new Counts(
                    transactions - before.transactions,
                    batchInserts - before.batchInserts,
                    batchUpdates - before.batchUpdates);
        }
    }

    private final String url;

    QueueDatabase(String url) {
        this.url = url;
    }

    /** Dead letters per sync (all kinds: function failures and deliveries given up). */
    Map<String, Long> deadLetters() throws SQLException {
        Map<String, Long> bySync = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(url, "sluice", "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT sync_id, count(*) FROM dead_letters GROUP BY sync_id")) {
            while (rs.next()) bySync.put(rs.getString(1), rs.getLong(2));
        }
        return bySync;
    }

    Counts counts() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "sluice", "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("""
                        SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database
                                 WHERE datname = current_database()),
                               coalesce((SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'batches'), 0),
                               coalesce((SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'batches'), 0)
                        """)) {
            rs.next();
            return new Counts(rs.getLong(1), rs.getLong(2), rs.getLong(3));
        }
    }
}
