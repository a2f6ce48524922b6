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
 */
public final class BatchNotifications implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatchNotifications.class);
    static final String CHANNEL = "sluice_batches";
    /** How often the listening connection checks that its server is still the writer (notifications come from it). */
    private static final Duration CHECK = Duration.ofSeconds(5);

    private static final Duration RECONNECT = Duration.ofSeconds(2);

    private final DataSource dataSource;
    private final Runnable onNotify;
    private volatile boolean running;
    private Thread thread;

    BatchNotifications(DataSource dataSource, Runnable onNotify) {
        this.dataSource = dataSource;
        this.onNotify = onNotify;
    }

    /** Sends the notification inside the caller's transaction. */
    static void announce(Connection c, BatchClaims.PreparedStatementCounter counter) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("NOTIFY " + CHANNEL)) {
            counter.counted(ps).execute();
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
        }
        try {
            PGConnection pg = c.unwrap(PGConnection.class);
            onNotify.run(); // plans recorded while nobody listened
            long checked = System.nanoTime();
            while (running) {
                PGNotification[] received = pg.getNotifications(500);
                if (Thread.interrupted()) throw new InterruptedException();
                if (received != null && received.length > 0) onNotify.run();
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
