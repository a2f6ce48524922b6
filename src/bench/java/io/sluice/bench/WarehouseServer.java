package io.sluice.bench;

import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.embedded.FreePort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A separate PostgreSQL server for the warehouse ({@code --external-warehouse}): the machine's own PostgreSQL
 * binaries (Debian's {@code /usr/lib/postgresql/15/bin} by default), initdb into a temp dir, started with pg_ctl on
 * 127.0.0.1 with {@code track_commit_timestamp} on (for the commit-time latency), stopped and removed at the end.
 * As root it runs inside an unprivileged user namespace, like the embedded server ({@link EmbeddedPostgres#command}).
 */
final class WarehouseServer implements AutoCloseable {
    static final String DEFAULT_BIN = "/usr/lib/postgresql/15/bin";
    static final String DATABASE = "warehouse";

    private final Path bin;
    private final Path dir;
    private final int port;
    private final String user;
    private boolean running;

    WarehouseServer(Path bin, Path dir, int port, String user) {
        this.bin = bin;
        this.dir = dir;
        this.port = port == 0 ? FreePort.find() : port;
        this.user = user;
    }

    void start() throws Exception {
        if (!Files.isExecutable(bin.resolve("pg_ctl")))
            throw new IllegalStateException("no PostgreSQL server binaries in " + bin
                    + " (install postgresql-15, or pass --external-warehouse-bin DIR)");
        Path data = dir.resolve("pgdata");
        run(List.of(
                bin.resolve("initdb").toString(),
                "-D",
                data.toString(),
                "-U",
                user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale"));
        run(List.of(
                bin.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-l",
                dir.resolve("postgres.log").toString(),
                "-w",
                "-t",
                "60",
                "-o",
                "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                        + "-c track_commit_timestamp=on -c max_connections=50",
                "start"));
        running = true;
        try (var c = DriverManager.getConnection(url("postgres"), user, "");
                var st = c.createStatement()) {
            st.execute("CREATE DATABASE " + DATABASE);
        }
    }

    String url() {
        return url(DATABASE);
    }

    private String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    String version() {
        try {
            return Files.readString(dir.resolve("pgdata").resolve("PG_VERSION")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    Path logFile() {
        return dir.resolve("postgres.log");
    }

    private void run(List<String> command) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path out = dir.resolve("command.out");
        List<String> full = new ArrayList<>(EmbeddedPostgres.command(command));
        Process p = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command.get(0) + " did not finish within 90 s");
        }
        if (p.exitValue() != 0)
            throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): "
                    + Files.readString(out).strip());
    }

    @Override
    public void close() {
        if (!running) return;
        try {
            run(List.of(
                    bin.resolve("pg_ctl").toString(),
                    "-D",
                    dir.resolve("pgdata").toString(),
                    "-m",
                    "fast",
                    "-w",
                    "stop"));
        } catch (Exception e) {
            System.err.println("Could not stop the warehouse server in " + dir + ": " + e.getMessage());
        }
        running = false;
    }
}
