package io.sluice.support;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.embedded.EmbeddedPostgres;
import java.util.UUID;

/**
 * One real embedded PostgreSQL 17 server shared by every test in the JVM (each test class takes fresh databases):
 * started on first use, stopped by the {@link SharedServers} extension when JUnit ends the run.
 */
public final class TestPostgres {
    public static final String USER = "sluice";
    private static EmbeddedPostgres server;

    private TestPostgres() {}

    public static synchronized EmbeddedPostgres server() {
        if (server == null) {
            server = new EmbeddedPostgres(TestKafka.tempDir("sluice-test-pg"), 0, USER);
            server.start();
        }
        return server;
    }

    /** Stops the shared server (started again on next use); called by {@link SharedServers} when JUnit ends the run. */
    static synchronized void closeShared() {
        if (server == null) return;
        server.close();
        server = null;
    }

    /** Creates an empty database and returns its JDBC URL. */
    public static String createDatabase(String prefix) {
        String name =
                prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        server().createDatabase(name);
        return server().jdbcUrl(name);
    }

    /** A small pool on the given database (close it after the test). */
    public static HikariDataSource dataSource(String jdbcUrl) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setUsername(USER);
        config.setMaximumPoolSize(8);
        return new HikariDataSource(config);
    }
}
