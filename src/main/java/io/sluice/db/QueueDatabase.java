package io.sluice.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import io.sluice.delivery.PostgresRefusal;
import io.sluice.lifecycle.Service;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue database: a HikariCP pool and the Flyway-managed schema. Every new connection proves it reaches a
 * writable primary before use; writer-loss errors are adjudicated by the given override (see
 * io.sluice.failover). Payloads never live here, only metadata.
 */
public final class QueueDatabase implements Service {
    private static final Logger log = LoggerFactory.getLogger(QueueDatabase.class);

    /** Refuses a connection to a standby or a read-only server, with the SQLSTATE such servers give writes. */
    static final String VERIFY_WRITER = """
            DO $$ BEGIN
              IF pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' THEN
                RAISE EXCEPTION 'not the writer: this server is a standby or read-only' USING ERRCODE = '25006';
              END IF;
            END $$""";

    private final String url;
    private final String user;
    private final String password;
    private final int maxPoolSize;
    private final SQLExceptionOverride override;
    private final WritePermits permits;
    private final Duration socketTimeout;
    private HikariDataSource dataSource;

    public QueueDatabase(String url, String user, String password, int maxPoolSize) {
        this(url, user, password, maxPoolSize, null);
    }

    public QueueDatabase(String url, String user, String password, int maxPoolSize, SQLExceptionOverride override) {
        this(url, user, password, maxPoolSize, override, WritePermits.OPEN, DEFAULT_SOCKET_TIMEOUT);
    }

    /**
     * @param permits the process's write gate: pending schema migrations run only through it (they wait while an
     *                operator paused queue writes)
     * @param socketTimeout longest wait for any answer from the server: the bound within which a black-holed
     *                      server is noticed (the statement fails with 08006, the pool evicts, writes hold)
     */
    public QueueDatabase(
            String url,
            String user,
            String password,
            int maxPoolSize,
            SQLExceptionOverride override,
            WritePermits permits,
            Duration socketTimeout) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.maxPoolSize = maxPoolSize;
        this.override = override;
        this.permits = permits;
        this.socketTimeout = socketTimeout;
    }

    static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofSeconds(10);

    @Override
    public synchronized void start() {
        if (dataSource != null) return;
        // A refused password, user, database or TLS set-up stops startup here, naming the key, rather than being
        // retried by the pool's initialisation (which retries any failure until its timeout).
        SQLException unreachable = PostgresRefusal.QUEUE.probe(url, user, password, 5);
        if (unreachable != null)
            log.warn(
                    "The queue database at {} does not answer yet ({}); waiting for it", url, unreachable.getMessage());
        HikariConfig config = new HikariConfig();
        config.setPoolName("sluice-queue");
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(maxPoolSize);
        config.setMinimumIdle(1);
        // Borrowing waits at most this long (a pool of hung connections must not hang callers for longer), and a
        // connection's liveness check at most half of the socket timeout.
        long socketMillis = Math.max(1000, socketTimeout.toMillis());
        config.setConnectionTimeout(Math.max(1000, Math.min(10_000, socketMillis)));
        config.setValidationTimeout(Math.max(250, Math.min(5_000, socketMillis / 2)));
        config.setInitializationFailTimeout(30_000);
        config.setConnectionInitSql(VERIFY_WRITER);
        if (override != null) config.setExceptionOverride(override);
        // Never hang on a server that vanished: bounded connect and socket waits, TCP keepalive.
        config.addDataSourceProperty("connectTimeout", "5");
        config.addDataSourceProperty("socketTimeout", String.valueOf(Math.max(1, socketMillis / 1000)));
        config.addDataSourceProperty("loginTimeout", String.valueOf(Math.max(1, socketMillis / 1000)));
        config.addDataSourceProperty("tcpKeepAlive", "true");
        dataSource = new HikariDataSource(config);
        Flyway flyway = Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .load();
        int executed = flyway.info().pending().length == 0 ? 0 : migrate(flyway);
        log.info(
                "Queue database ready at {} (schema version {}, {} migration(s) applied now)",
                url,
                flyway.info().current() == null
                        ? "none"
                        : flyway.info().current().getVersion(),
                executed);
    }

    /** Pending migrations are writes like any other: they pass the gate, and wait while it is held (db pause). */
    private int migrate(Flyway flyway) {
        boolean told = false;
        while (true) {
            try (WritePermits.Permit permit = permits.enter(WritePermits.Work.NEW)) {
                return flyway.migrate().migrationsExecuted;
            } catch (SQLException held) {
                if (!told)
                    log.warn("Schema migrations wait until queue-database writes may go ahead: {}", held.getMessage());
                told = true;
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while waiting to migrate the queue database", e);
                }
            }
        }
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** Retires every pooled connection as soon as it is idle: after a writer change none of them can be trusted. */
    public void evictAll() {
        HikariDataSource ds = dataSource;
        if (ds != null && ds.getHikariPoolMXBean() != null)
            ds.getHikariPoolMXBean().softEvictConnections();
    }

    @Override
    public synchronized void close() {
        if (dataSource != null) {
            dataSource.close();
            dataSource = null;
        }
    }
}
