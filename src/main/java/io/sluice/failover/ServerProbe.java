package io.sluice.failover;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Asks one PostgreSQL endpoint, over a fresh connection (the pool's may be stale), who it is and whether it takes
 * writes. A fresh connection goes wherever a new pool connection would: through the cluster endpoint or proxy.
 */
final class ServerProbe {
    private static final String QUERY = """
            SELECT host(inet_server_addr()), inet_server_port(), pg_postmaster_start_time()::text,
                   pg_is_in_recovery(), current_setting('transaction_read_only')""";

    /** The answer: identity, and whether writes would be accepted. */
    record Answer(WriterIdentity identity, boolean writable) {}

    private final String url;
    private final Properties properties = new Properties();

    ServerProbe(String url, String user, String password) {
        this.url = url;
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        properties.setProperty("connectTimeout", "2");
        properties.setProperty("socketTimeout", "3");
        properties.setProperty("loginTimeout", "3");
        properties.setProperty("ApplicationName", "sluice-writer-probe");
    }

    Answer ask() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, properties);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(QUERY)) {
            rs.next();
            WriterIdentity identity = new WriterIdentity(rs.getString(1), rs.getInt(2), rs.getString(3));
            boolean writable = !rs.getBoolean(4) && !"on".equals(rs.getString(5));
            return new Answer(identity, writable);
        }
    }

    /** The instance label for metrics: host:port of the URL, no credentials. */
    static String label(String url) {
        String rest = url.replaceFirst("^jdbc:postgresql://", "");
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }
}
