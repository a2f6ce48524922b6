package io.sluice.embedded;

import io.sluice.lifecycle.Service;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL 17 server run from the binaries that zonky ships as a Maven artifact, with its data
 * directory under Sluice's dataDir so it survives restarts. We drive initdb/pg_ctl ourselves (rather than
 * through zonky's EmbeddedPostgres) because PostgreSQL refuses to run as root, which is how containers and CI
 * run us: as root we start it inside an unprivileged user namespace ({@code unshare -U}).
 */
public final class EmbeddedPostgres implements Service {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);
    private static final String BINARIES_RESOURCE = "/postgres-linux-x86_64.txz";
    private static final String BINARIES_VERSION = "17";

    private final Path root;
    private final int port;
    private final String user;
    private boolean running;

    public EmbeddedPostgres(Path root, int port, String user) {
        this.root = root.toAbsolutePath().normalize();
        this.port = port == 0 ? FreePort.find() : port;
        this.user = user;
    }

    public synchronized void start() {
        if (running) return;
        try {
            Files.createDirectories(root);
            Path bin = binaries(root);
            Path data = root.resolve("pgdata");
            if (!Files.exists(data.resolve("PG_VERSION"))) {
                log.info("Initialising embedded PostgreSQL data directory {}", data);
                run(
                        List.of(
                                bin.resolve("initdb").toString(),
                                "-D",
                                data.toString(),
                                "-U",
                                user,
                                "-A",
                                "trust",
                                "-E",
                                "UTF8",
                                "--no-locale"),
                        "initdb");
            }
            stopLeftoverServer(bin, data);
            run(
                    List.of(
                            bin.resolve("pg_ctl").toString(),
                            "-D",
                            data.toString(),
                            "-l",
                            root.resolve("postgres.log").toString(),
                            "-w",
                            "-t",
                            "60",
                            "-o",
                            "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
                            "start"),
                    "pg_ctl start");
            running = true;
            createDatabase("sluice");
            log.info("Embedded PostgreSQL listening on 127.0.0.1:{}", port);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Embedded PostgreSQL failed to start (see " + root.resolve("postgres.log") + ")", e);
        }
    }

    /** A server left running by a process that was killed (kill -9) would hold the data directory: stop it. */
    private void stopLeftoverServer(Path bin, Path data) throws IOException {
        if (!Files.exists(data.resolve("postmaster.pid"))) return;
        try {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "status"), "pg_ctl status");
        } catch (IOException notRunning) {
            return; // stale pid file only; postgres removes it itself on start
        }
        log.warn("An embedded PostgreSQL from an earlier run is still running on {}; restarting it", data);
        run(
                List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "stop"),
                "pg_ctl stop");
    }

    public int port() {
        return port;
    }

    public String user() {
        return user;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Creates a database if it does not exist yet (the warehouse of standalone mode lives beside the queue). */
    public void createDatabase(String name) {
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), user, "");
                var exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, name);
            if (!exists.executeQuery().next()) {
                try (var create = c.createStatement()) {
                    create.execute("CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"");
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create database " + name + " on embedded PostgreSQL", e);
        }
    }

    @Override
    public synchronized void close() {
        if (!running) return;
        running = false;
        try {
            Path bin = root.resolve("bin-" + BINARIES_VERSION).resolve("bin");
            run(
                    List.of(
                            bin.resolve("pg_ctl").toString(),
                            "-D",
                            root.resolve("pgdata").toString(),
                            "-m",
                            "fast",
                            "-w",
                            "-t",
                            "30",
                            "stop"),
                    "pg_ctl stop");
        } catch (IOException | RuntimeException e) {
            log.warn("Embedded PostgreSQL did not stop cleanly", e);
        }
    }

    /**
     * Extracts the PostgreSQL binaries under {@code root} (once; later calls reuse them) and returns their bin
     * directory. Public so test harnesses (a primary/standby cluster) can run the same server binaries.
     */
    public static Path binaries(Path root) throws IOException {
        return extractBinaries(root.toAbsolutePath().normalize()).resolve("bin");
    }

    /** The command line to run a PostgreSQL binary: as root it is wrapped in {@code unshare -U} (see run). */
    public static List<String> command(List<String> command) {
        List<String> full = new ArrayList<>();
        if (runningAsRoot()) {
            // PostgreSQL refuses uid 0; an unprivileged user namespace maps us to 'nobody' while files stay ours.
            full.addAll(List.of("unshare", "-U"));
        }
        full.addAll(command);
        return full;
    }

    private static Path extractBinaries(Path root) throws IOException {
        Path target = root.resolve("bin-" + BINARIES_VERSION);
        Path marker = target.resolve(".complete");
        if (Files.exists(marker)) return target;
        try (InputStream raw = EmbeddedPostgres.class.getResourceAsStream(BINARIES_RESOURCE)) {
            if (raw == null)
                throw new IOException("PostgreSQL binaries " + BINARIES_RESOURCE + " are not on the classpath");
            try (var tar = new TarArchiveInputStream(new XZCompressorInputStream(raw))) {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    Path out = target.resolve(entry.getName()).normalize();
                    if (!out.startsWith(target))
                        throw new IOException("Bad entry in PostgreSQL archive: " + entry.getName());
                    if (entry.isDirectory()) {
                        Files.createDirectories(out);
                    } else if (entry.isSymbolicLink()) {
                        Files.createDirectories(out.getParent());
                        Files.deleteIfExists(out);
                        Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
                    } else {
                        Files.createDirectories(out.getParent());
                        Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                        if ((entry.getMode() & 0100) != 0)
                            Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxr-xr-x"));
                    }
                }
            }
        }
        Files.createFile(marker);
        return target;
    }

    private void run(List<String> command, String what) throws IOException {
        List<String> full = command(command);
        Path output = root.resolve(what.replace(' ', '-') + ".out");
        Process process = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        try {
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(what + " did not finish within 90 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + " was interrupted", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException(what + " failed with exit code " + process.exitValue() + ": "
                    + Files.readString(output).strip());
        }
    }

    private static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
