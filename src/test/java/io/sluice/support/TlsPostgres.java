package io.sluice.support;

import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.embedded.FreePort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL 17 server (the binaries {@link EmbeddedPostgres} ships) that only accepts TLS connections with a
 * password: {@code hostssl ... scram-sha-256}, every plain connection rejected. Its certificate is signed by a test
 * CA made here with the JDK's keytool and names only {@code 127.0.0.1} (IP SAN), so {@code sslmode=verify-full}
 * succeeds with {@link #jdbcUrl} and fails for {@code localhost}. A second, unrelated CA ({@link #otherCa()}) is
 * there to be trusted by mistake.
 */
public final class TlsPostgres implements AutoCloseable {
    public static final String USER = "sluice";
    private static final String STORE_PASSWORD = "store-secret";

    private final Path root;
    private final int port = FreePort.find();
    private final String password;
    private Path bin;
    private Path ca;
    private Path otherCa;
    private boolean running;

    private TlsPostgres(Path root, String password) {
        this.root = root.toAbsolutePath();
        this.password = password;
    }

    /** Initialises and starts the server; {@code password} is the password of {@link #USER}, a superuser. */
    public static TlsPostgres start(Path root, String password) {
        TlsPostgres server = new TlsPostgres(root, password);
        try {
            server.boot();
        } catch (IOException | SQLException | RuntimeException e) {
            server.close();
            throw new IllegalStateException("TLS PostgreSQL failed to start (log: " + root + "/postgres.log)", e);
        }
        return server;
    }

    private void boot() throws IOException, SQLException {
        Files.createDirectories(root);
        bin = EmbeddedPostgres.binaries(root);
        Path tls = Files.createDirectories(root.resolve("tls"));
        ca = certificateAuthority(tls, "ca", "CN=Sluice Test CA");
        otherCa = certificateAuthority(tls, "other-ca", "CN=Someone Else's CA");
        serverCertificate(tls);
        Path data = root.resolve("pgdata");
        Path passwordFile = tls.resolve("password");
        Files.writeString(passwordFile, password + "\n");
        run(List.of(
                bin.resolve("initdb").toString(),
                "-D",
                data.toString(),
                "-U",
                USER,
                "--pwfile=" + passwordFile,
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync"));
        Files.writeString(
                data.resolve("postgresql.conf"),
                String.join(
                        "\n",
                        "",
                        "listen_addresses = '127.0.0.1'",
                        "port = " + port,
                        "unix_socket_directories = ''",
                        "ssl = on",
                        "ssl_cert_file = '" + tls.resolve("server.crt") + "'",
                        "ssl_key_file = '" + tls.resolve("server.key") + "'",
                        "fsync = off",
                        "shared_buffers = '32MB'",
                        "max_connections = 60",
                        ""),
                StandardOpenOption.APPEND);
        Files.writeString(
                data.resolve("pg_hba.conf"),
                "hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n");
        run(List.of(
                bin.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-l",
                root.resolve("postgres.log").toString(),
                "-w",
                "-t",
                "60",
                "start"));
        running = true;
    }

    public int port() {
        return port;
    }

    public String password() {
        return password;
    }

    /** The PEM file of the CA that signed the server's certificate. */
    public Path ca() {
        return ca;
    }

    /** The PEM file of a CA that signed nothing this server presents. */
    public Path otherCa() {
        return otherCa;
    }

    /** A {@code verify-full} URL of {@code database} on host {@code host}, trusting {@code rootCert}. */
    public String jdbcUrl(String host, String database, Path rootCert) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database + "?sslmode=verify-full&sslrootcert="
                + rootCert;
    }

    /** The URL that verifies: 127.0.0.1, the name in the certificate, and the CA that signed it. */
    public String jdbcUrl(String database) {
        return jdbcUrl("127.0.0.1", database, ca);
    }

    /** A verified TLS connection as {@link #USER}. */
    public Connection connect(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", USER);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    public void createDatabase(String name) {
        try (Connection c = connect("postgres");
                var s = c.createStatement()) {
            s.execute("CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("could not create database " + name, e);
        }
    }

    /** Whether the session on this connection is encrypted, as the server sees it. */
    public static boolean encrypted(Connection c) throws SQLException {
        try (var s = c.createStatement();
                var r = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            return r.next() && r.getBoolean(1);
        }
    }

    /** How many client sessions of {@code database} the server holds, and how many of them are encrypted. */
    public long[] sessions(String database) throws SQLException {
        try (Connection c = connect("postgres");
                var s = c.prepareStatement("SELECT count(*), count(*) FILTER (WHERE ssl.ssl) FROM pg_stat_activity a"
                        + " JOIN pg_stat_ssl ssl USING (pid) WHERE a.datname = ? AND a.pid <> pg_backend_pid()")) {
            s.setString(1, database);
            try (var r = s.executeQuery()) {
                r.next();
                return new long[] {r.getLong(1), r.getLong(2)};
            }
        }
    }

    @Override
    public void close() {
        if (!running) return;
        running = false;
        try {
            run(List.of(
                    bin.resolve("pg_ctl").toString(),
                    "-D",
                    root.resolve("pgdata").toString(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop"));
        } catch (IOException | RuntimeException ignored) {
            // best effort: the directory is a test's temporary directory
        }
    }

    /** A self-signed CA key pair in {@code name}.p12 and its certificate as PEM, returned. */
    private static Path certificateAuthority(Path dir, String name, String dname) {
        Path store = dir.resolve(name + ".p12");
        Path pem = dir.resolve(name + ".crt");
        keytool(List.of(
                "-genkeypair",
                "-alias",
                name,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                dname,
                "-validity",
                "2",
                "-ext",
                "bc:c",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                STORE_PASSWORD));
        keytool(List.of(
                "-exportcert",
                "-rfc",
                "-alias",
                name,
                "-keystore",
                store.toString(),
                "-storepass",
                STORE_PASSWORD,
                "-file",
                pem.toString()));
        return pem;
    }

    /**
     * The server's key (PEM, PKCS#8, mode 0600 as PostgreSQL demands) and its certificate signed by the CA, naming
     * only the IP address 127.0.0.1.
     */
    private static void serverCertificate(Path dir) throws IOException {
        Path store = dir.resolve("server.p12");
        keytool(List.of(
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=127.0.0.1",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                STORE_PASSWORD));
        Path request = dir.resolve("server.csr");
        keytool(List.of(
                "-certreq",
                "-alias",
                "server",
                "-keystore",
                store.toString(),
                "-storepass",
                STORE_PASSWORD,
                "-file",
                request.toString()));
        keytool(List.of(
                "-gencert",
                "-rfc",
                "-alias",
                "ca",
                "-keystore",
                dir.resolve("ca.p12").toString(),
                "-storepass",
                STORE_PASSWORD,
                "-infile",
                request.toString(),
                "-outfile",
                dir.resolve("server.crt").toString(),
                "-validity",
                "2",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-ext",
                "EKU=serverAuth"));
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(store)) {
                keys.load(in, STORE_PASSWORD.toCharArray());
            }
            PrivateKey key = (PrivateKey) keys.getKey("server", STORE_PASSWORD.toCharArray());
            String pem = "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(key.getEncoded())
                    + "\n-----END PRIVATE KEY-----\n";
            Path keyFile = dir.resolve("server.key");
            Files.writeString(keyFile, pem);
            Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("could not read the server key back", e);
        }
    }

    private static void keytool(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(args);
        exec(command, "keytool " + args.getFirst());
    }

    private void run(List<String> command) throws IOException {
        exec(EmbeddedPostgres.command(command), Path.of(command.getFirst()).getFileName() + " " + command.getLast());
    }

    private static void exec(List<String> command, String what) {
        try {
            // To a file, not a pipe: pg_ctl's daemonised postmaster could hold a pipe open.
            Path output = Files.createTempFile("sluice-tls-pg-", ".out");
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            boolean done = process.waitFor(90, TimeUnit.SECONDS);
            String text = Files.readString(output);
            Files.deleteIfExists(output);
            if (!done || process.exitValue() != 0) throw new IllegalStateException(what + " failed: " + text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
