package io.sluice.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import io.sluice.lifecycle.Service;
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
    private HikariDataSource dataSource;

    public QueueDatabase(String url, String user, String password, int maxPoolSize) {
        this(url, user, password, maxPoolSize, null);
    }

    public QueueDatabase(String url, String user, String password, int maxPoolSize, SQLExceptionOverride override) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.maxPoolSize = maxPoolSize;
        this.override = override;
    }

    @Override
    public synchronized void start() {
        if (dataSource != null) return;
        HikariConfig config = new HikariConfig();
        config.setPoolName("sluice-queue");
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(maxPoolSize);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(10_000);
        config.setInitializationFailTimeout(30_000);
        config.setConnectionInitSql(VERIFY_WRITER);
        if (override != null) config.setExceptionOverride(override);
        // Never hang on a server that vanished: bounded connect and socket waits, TCP keepalive.
        config.addDataSourceProperty("connectTimeout", "5");
        config.addDataSourceProperty("socketTimeout", "30");
        config.addDataSourceProperty("tcpKeepAlive", "true");
        dataSource = new HikariDataSource(config);
        Flyway flyway = Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load();
        var result = flyway.migrate();
        log.info("Queue database ready at {} (schema version {}, {} migration(s) applied now)", url,
                flyway.info().current() == null ? "none" : flyway.info().current().getVersion(), result.migrationsExecuted);
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** Retires every pooled connection as soon as it is idle: after a writer change none of them can be trusted. */
    public void evictAll() {
        HikariDataSource ds = dataSource;
        if (ds != null && ds.getHikariPoolMXBean() != null) ds.getHikariPoolMXBean().softEvictConnections();
    }

    @Override
    public synchronized void close() {
        if (dataSource != null) {
            dataSource.close();
            dataSource = null;
        }
    }
}
