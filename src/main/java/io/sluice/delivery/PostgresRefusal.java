package io.sluice.delivery;

import io.sluice.config.ConfigException;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import javax.net.ssl.SSLException;

/**
 * A PostgreSQL server that refuses Sluice's connection for a reason no retry cures — the password, the user or
 * database, the TLS set-up of the URL (an untrusted CA, a certificate that does not name the host, a missing
 * {@code sslrootcert}, a server without TLS) — as one configuration error naming the key to fix. Asked once at
 * startup by the queue database and each warehouse, before their pools would retry the same refusal for ever.
 * Any other failure (server down, unreachable) is left to the callers' usual retries.
 *
 * @param url the setting that holds the JDBC URL (host, database, sslmode, sslrootcert)
 * @param user the setting that holds the user
 * @param password the setting that holds the password
 */
public record PostgresRefusal(String url, String user, String password) {
    /** The queue database's settings. */
    public static final PostgresRefusal QUEUE =
            new PostgresRefusal("postgres.url", "postgres.user", "postgres.password");

    /** A warehouse destination's settings, named as the destination checks name them. */
    public static PostgresRefusal warehouse(String destinationId) {
        String prefix = "destination '" + destinationId + "' ";
        return new PostgresRefusal(prefix + "url", prefix + "user", prefix + "password");
    }

    /**
     * Opens and closes one connection. Throws the configuration error if the server refused it for good; returns
     * the failure of any other kind (for the caller to log), null on success.
     *
     * @param connectTimeoutSeconds the driver's bound on connecting and on logging in
     */
    public SQLException probe(String jdbcUrl, String userName, String secret, int connectTimeoutSeconds) {
        Properties props = new Properties();
        props.setProperty("user", userName);
        if (secret != null && !secret.isEmpty()) props.setProperty("password", secret);
        props.setProperty("connectTimeout", String.valueOf(connectTimeoutSeconds));
        props.setProperty("loginTimeout", String.valueOf(connectTimeoutSeconds));
        try (Connection ignored = DriverManager.getConnection(jdbcUrl, props)) {
            return null;
        } catch (SQLException e) {
            ConfigException refused = of(e, userName);
            if (refused != null) throw refused;
            return e;
        }
    }

    /** The configuration error behind {@code failure}, or null when it is not a lasting refusal. */
    public ConfigException of(SQLException failure, String userName) {
        String state = failure.getSQLState() == null ? "" : failure.getSQLState();
        String said = " (" + failure.getMessage() + ")";
        switch (state) {
            case "28P01" -> {
                return new ConfigException(
                        password, "PostgreSQL refused the password of user '" + userName + "'" + said);
            }
            case "28000" -> {
                return new ConfigException(
                        user,
                        "PostgreSQL does not let user '" + userName + "' connect (no such role, or pg_hba.conf has no"
                                + " entry for it with this connection's TLS setting; see also " + url + ")" + said);
            }
            case "3D000" -> {
                return new ConfigException(url, "names a database that does not exist" + said);
            }
            default -> {
                if (isTls(failure)) {
                    return new ConfigException(
                            url,
                            "the TLS connection to PostgreSQL failed: check sslmode, sslrootcert (the CA that signed"
                                    + " the server's certificate) and that the host in the URL is named in the"
                                    + " certificate" + said);
                }
                return null;
            }
        }
    }

    /**
     * Whether a connection failed in its TLS set-up: the handshake (an untrusted certificate), the host name check
     * of {@code verify-full}, the trust file, or a server that does not offer TLS. PgJDBC reports all of them as
     * connection failures (08xxx), told apart from an unreachable server by their cause or their words.
     */
    private static boolean isTls(SQLException failure) {
        String state = failure.getSQLState();
        if (state == null || !state.startsWith("08")) return false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SSLException || t instanceof GeneralSecurityException) return true;
            String message = String.valueOf(t.getMessage());
            if (message.contains("hostnameverifier")
                    || message.contains("SSL root certificate")
                    || message.contains("does not support SSL")
                    || message.startsWith("SSL error")) return true;
            if (t.getCause() == t) break;
        }
        return false;
    }
}
