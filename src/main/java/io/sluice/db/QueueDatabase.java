package io.sluice.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.runtime.Service;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue database: a HikariCP pool and the Flyway-managed schema (control tables now; batch metadata in the
 * virtual-queue stage). Payloads never live here, only metadata.
 */
public final class QueueDatabase implements Service {
    private static final Logger log = LoggerFactory.getLogger(QueueDatabase.class);

    private final String url;
    private final String user;
    private final String password;
    private final int maxPoolSize;
    private HikariDataSource dataSource;

    public QueueDatabase(String url, String user, String password, int maxPoolSize) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.maxPoolSize = maxPoolSize;
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
        dataSource = new HikariDataSource(config);
        var result = Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
        log.info("Queue database ready at {} (schema version {})", url, result.targetSchemaVersion);
    }

    public DataSource dataSource() {
        return dataSource;
    }

    @Override
    public synchronized void close() {
        if (dataSource != null) {
            dataSource.close();
            dataSource = null;
        }
    }
}
