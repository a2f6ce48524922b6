package io.sluice.bench;

import io.sluice.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The bench's SQL against the embedded server: end-to-end latency and load times from the warehouse, the planner's
 * batches from the queue database, and the server's own statement counts (pg_stat_statements, pg_stat_database).
 * Latency uses {@code pg_xact_commit_timestamp(xmin)}, the commit time of the transaction that inserted a row (the
 * bench turns on {@code track_commit_timestamp}); {@code uuid_ts} is {@code now()}, the start of that transaction.
 */
final class PipelineProbe {
    private final String user;
    private final String adminUrl;
    private final String queueUrl;
    private final String warehouseUrl;
    private final String table;
    private final String queueDatabase;
    private final String warehouseUser;
    private final String warehousePassword;
    /** False when the warehouse server does not track commit timestamps: latency then ends at uuid_ts. */
    private boolean commitTimestamps = true;

    /** pg_stat_statements calls per statement, and pg_stat_database xact_commit + xact_rollback. */
    record ServerCounts(Map<String, Long> calls, long transactions) {}

    /** @param slices end-to-end latency of the events received in each {@link #SLICE_SECONDS} of the window */
    record Latency(
            long rows,
            LatencyHistogram toCommitMicros,
            LatencyHistogram toLoadStartMicros,
            List<LatencyHistogram> slices) {}

    static final int SLICE_SECONDS = 10;

    /** Warehouse transactions holding events of the window: their count, mean events and uuid_ts-to-commit time. */
    record Loads(long transactions, double meanEvents, LatencyHistogram loadMicros) {}

    /** The planner's batches created in the window: sizes and created-to-finished time (queue + read + load). */
    record Batches(
            long count,
            double meanEvents,
            long p50Events,
            long maxEvents,
            long unfinished,
            long retried,
            LatencyHistogram createdToFinishedMicros) {}

    PipelineProbe(String user, String queueUrl, String warehouseUrl, String schema) {
        this(user, queueUrl, warehouseUrl, user, "", schema);
    }

    PipelineProbe(
            String user,
            String queueUrl,
            String warehouseUrl,
            String warehouseUser,
            String warehousePassword,
            String schema) {
        this.warehouseUser = warehouseUser;
        this.warehousePassword = warehousePassword;
        this.user = user;
        this.queueUrl = queueUrl;
        this.warehouseUrl = warehouseUrl;
        this.queueDatabase = queueUrl.substring(queueUrl.lastIndexOf('/') + 1);
        this.adminUrl = queueUrl.substring(0, queueUrl.lastIndexOf('/') + 1) + "postgres";
        this.table = "\"" + schema + "\".\"tracks\"";
    }

    /** Whether the warehouse server has track_commit_timestamp on; without it latency is measured to uuid_ts. */
    boolean detectCommitTimestamps() throws SQLException {
        try (Connection c = warehouse();
                var st = c.createStatement();
                ResultSet rs = st.executeQuery("SHOW track_commit_timestamp")) {
            rs.next();
            commitTimestamps = "on".equals(rs.getString(1));
        }
        return commitTimestamps;
    }

    boolean commitTimestamps() {
        return commitTimestamps;
    }

    /** When a warehouse row became visible: its transaction's commit time, or uuid_ts (the load's start). */
    private String rowTime() {
        return commitTimestamps ? "pg_xact_commit_timestamp(xmin)" : "uuid_ts";
    }

    private Connection warehouse() throws SQLException {
        return DriverManager.getConnection(warehouseUrl, warehouseUser, warehousePassword);
    }

    /** In the maintenance database, so the bench's own queries never count against the queue database. */
    void enableStatementStatistics() throws SQLException {
        try (Connection c = DriverManager.getConnection(adminUrl, user, "");
                var st = c.createStatement()) {
            st.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        }
    }

    ServerCounts serverCounts() throws SQLException {
        Map<String, Long> calls = new HashMap<>();
        long commits;
        try (Connection c = DriverManager.getConnection(adminUrl, user, "")) {
            try (PreparedStatement ps = c.prepareStatement("SELECT s.query, sum(s.calls) FROM pg_stat_statements s "
                    + "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = ? GROUP BY s.query")) {
                ps.setString(1, queueDatabase);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next())
                        calls.put(rs.getString(1).replaceAll("\\s+", " ").trim(), rs.getLong(2));
                }
            }
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = ?")) {
                ps.setString(1, queueDatabase);
                try (ResultSet rs = ps.executeQuery()) {
                    commits = rs.next() ? rs.getLong(1) : -1;
                }
            }
        }
        return new ServerCounts(calls, commits);
    }

    /** Events in the warehouse so far (0 before the first load created the table). */
    long warehouseEvents() throws SQLException {
        try (Connection c = warehouse();
                PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + table);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) return 0;
            throw e;
        }
    }

    /** Seconds from {@code t} to the last commit of a warehouse row (how long the tail took after the load stopped). */
    double lastCommitAfter(Instant t) throws SQLException {
        try (Connection c = warehouse();
                PreparedStatement ps =
                        c.prepareStatement("SELECT extract(epoch FROM max(" + rowTime() + ") - ?) FROM " + table)) {
            ps.setObject(1, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getDouble(1);
            }
        }
    }

    /** Per event received in [from, to): commit time and load start (uuid_ts) minus received_at. */
    Latency latency(Instant from, Instant to) throws SQLException {
        LatencyHistogram commit = new LatencyHistogram();
        LatencyHistogram start = new LatencyHistogram();
        List<LatencyHistogram> slices = new ArrayList<>();
        long rows = 0;
        try (Connection c = warehouse()) {
            c.setAutoCommit(false); // a cursor: the rows stream instead of being held in memory at once
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT extract(epoch FROM " + rowTime() + " - received_at), "
                            + "extract(epoch FROM uuid_ts - received_at), extract(epoch FROM received_at) FROM " + table
                            + " WHERE received_at >= ? AND received_at < ?")) {
                window(ps, from, to);
                ps.setFetchSize(50_000);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long micros = Math.round(rs.getDouble(1) * 1e6);
                        int slice = (int) Math.max(
                                0, (rs.getDouble(3) - from.getEpochSecond() - from.getNano() / 1e9) / SLICE_SECONDS);
                        while (slices.size() <= slice) slices.add(new LatencyHistogram());
                        slices.get(slice).record(micros);
                        commit.record(micros);
                        start.record(Math.round(rs.getDouble(2) * 1e6));
                        rows++;
                    }
                }
            }
            c.commit();
        }
        return new Latency(rows, commit, start, slices);
    }

    Loads loads(Instant from, Instant to) throws SQLException {
        LatencyHistogram load = new LatencyHistogram();
        if (!commitTimestamps) return new Loads(0, 0, load); // no commit time, no load duration
        long transactions = 0;
        long events = 0;
        String sql =
                "SELECT n, extract(epoch FROM pg_xact_commit_timestamp(x::xid) - t0) FROM (SELECT xmin::text AS x, count(*) AS n, "
                        + "min(uuid_ts) AS t0 FROM " + table
                        + " WHERE received_at >= ? AND received_at < ? GROUP BY 1) s";
        try (Connection c = warehouse();
                PreparedStatement ps = c.prepareStatement(sql)) {
            window(ps, from, to);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    transactions++;
                    events += rs.getLong(1);
                    load.record(Math.round(rs.getDouble(2) * 1e6));
                }
            }
        }
        return new Loads(transactions, transactions == 0 ? 0 : events / (double) transactions, load);
    }

    /** Rows of every table of the schema committed in [from, to): events/s and rows/s the warehouse sustained. */
    long[] committedIn(Instant from, Instant to, String schema) throws SQLException {
        long tracks = 0;
        long all = 0;
        try (Connection c = warehouse()) {
            List<String> tables = new ArrayList<>();
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT table_name FROM information_schema.tables WHERE table_schema = ?"
                            + " AND table_name <> '_sluice_columns'")) { // the mapping table has no uuid_ts
                ps.setString(1, schema);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) tables.add(rs.getString(1));
                }
            }
            for (String t : tables) {
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM \"" + schema + "\".\"" + t
                        + "\" WHERE " + rowTime() + " >= ? AND " + rowTime() + " < ?")) {
                    window(ps, from, to);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        all += rs.getLong(1);
                        if (t.equals("tracks")) tracks = rs.getLong(1);
                    }
                }
            }
        }
        return new long[] {tracks, all};
    }

    Batches batches(Instant from, Instant to) throws SQLException {
        List<Long> sizes = new ArrayList<>();
        LatencyHistogram queued = new LatencyHistogram();
        long unfinished = 0;
        long retried = 0;
        try (Connection c = DriverManager.getConnection(queueUrl, user, "");
                PreparedStatement ps =
                        c.prepareStatement("SELECT event_count, extract(epoch FROM finished_at - created_at), attempts "
                                + "FROM batches WHERE created_at >= ? AND created_at < ?")) {
            window(ps, from, to);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sizes.add(rs.getLong(1));
                    double seconds = rs.getDouble(2);
                    if (rs.wasNull()) unfinished++;
                    else queued.record(Math.round(seconds * 1e6));
                    if (rs.getInt(3) > 1) retried++;
                }
            }
        }
        sizes.sort(null);
        double mean = sizes.stream().mapToLong(Long::longValue).average().orElse(0);
        return new Batches(
                sizes.size(),
                mean,
                sizes.isEmpty() ? 0 : sizes.get(sizes.size() / 2),
                sizes.isEmpty() ? 0 : sizes.get(sizes.size() - 1),
                unfinished,
                retried,
                queued);
    }

    private static void window(PreparedStatement ps, Instant from, Instant to) throws SQLException {
        ps.setObject(1, OffsetDateTime.ofInstant(from, ZoneOffset.UTC));
        ps.setObject(2, OffsetDateTime.ofInstant(to, ZoneOffset.UTC));
    }

    /**
     * Configures a data directory before Sluice starts its server on it: commit timestamps (for the latency) and
     * pg_stat_statements (for the server-side statement count). Both need a restart, hence this separate start.
     */
    static void prepare(Path postgresDir, String user) throws SQLException {
        var server = new EmbeddedPostgres(postgresDir, 0, user);
        server.start();
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres"), user, "");
                var st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET track_commit_timestamp = on");
            st.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
        } finally {
            server.close();
        }
    }
}
