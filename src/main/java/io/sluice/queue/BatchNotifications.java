package io.sluice.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wake-ups for workers through PostgreSQL's LISTEN/NOTIFY: the planner announces new batches in the transaction
 * that records them (delivered at its commit), and every worker keeps one connection listening and wakes its
 * claimer. Claims then follow plans within milliseconds instead of a poll interval, and an idle worker polls
 * rarely. A missed notification (reconnecting, a writer change) costs at most one poll: polling stays the fallback.
 * The same connection hears of new retry-queue rows ({@link #RETRIES}, sent by the transaction that inserts them), so
 * a worker whose retry queue was empty does not poll it until then. On every (re)connect both are announced, for
 * what happened while nobody listened.
 */
public final class BatchNotifications implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatchNotifications.class);
    static final String CHANNEL = "sluice_batches";
    /** New rows in the retry queue. */
    static final String RETRIES = "sluice_retries";
    /** How often the listening connection checks that its server is still the writer (notifications come from it). */
    private static final Duration CHECK = Duration.ofSeconds(5);

    private static final Duration RECONNECT = Duration.ofSeconds(2);

    private final DataSource dataSource;
    private final Runnable onNotify;
    private final Runnable onRetries;
    private volatile boolean running;
    private Thread thread;

    BatchNotifications(DataSource dataSource, Runnable onNotify, Runnable onRetries) {
        this.dataSource = dataSource;
        this.onNotify = onNotify;
        this.onRetries = onRetries;
    }

    /** Sends the notification inside the caller's transaction. */
    static void announce(Connection c, BatchClaims.PreparedStatementCounter counter) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("NOTIFY " + CHANNEL)) {
            counter.counted(ps).execute();
        }
    }

    /** Announces new retry-queue rows inside the caller's transaction. */
    static void announceRetries(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("NOTIFY " + RETRIES)) {
            ps.execute();
        }
    }

    public synchronized void start() {
        if (running) return;
        running = true;
        thread =
                Thread.ofPlatform().name("sluice-worker-notifications").daemon().start(this::listenLoop);
    }

    private void listenLoop() {
        while (running) {
            try (Connection c = dataSource.getConnection()) {
                listen(c);
            } catch (SQLException e) {
                if (running)
                    log.debug("Batch notifications interrupted ({}); polling until they are back", e.toString());
            } catch (InterruptedException e) {
                return;
            }
            try {
                if (running) Thread.sleep(RECONNECT);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void listen(Connection c) throws SQLException, InterruptedException {
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
            st.execute("LISTEN " + CHANNEL);
            st.execute("LISTEN " + RETRIES);
        }
        try {
            PGConnection pg = c.unwrap(PGConnection.class);
            onNotify.run(); // plans recorded while nobody listened
            onRetries.run(); // retry-queue rows inserted while nobody listened
            long checked = System.nanoTime();
            while (running) {
                PGNotification[] received = pg.getNotifications(500);
                if (Thread.interrupted()) throw new InterruptedException();
                if (received != null) dispatch(received);
                if (System.nanoTime() - checked > CHECK.toNanos()) {
                    if (inRecovery(c)) return; // no longer the writer: reconnect (the pool finds the new one)
                    checked = System.nanoTime();
                }
            }
        } finally {
            try (Statement st = c.createStatement()) {
                st.execute("UNLISTEN *"); // the connection goes back to the pool: leave it as it was
            } catch (SQLException ignored) {
                // a broken connection is discarded by the pool anyway
            }
        }
    }

    private void dispatch(PGNotification[] received) {
        boolean batches = false;
        boolean retries = false;
        for (PGNotification n : received) {
            if (RETRIES.equals(n.getName())) retries = true;
            else batches = true;
        }
        if (batches) onNotify.run();
        if (retries) onRetries.run();
    }

    private static boolean inRecovery(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (!running) return;
            running = false;
            t = thread;
        }
        t.interrupt();
        try {
            t.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
