package io.sluice.support;

import static java.nio.file.StandardOpenOption.APPEND;

import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.embedded.FreePort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL 17 primary plus a streaming hot standby, for database-failover tests. Both run from the zonky
 * binaries that {@link EmbeddedPostgres} uses, each with its own data directory and 127.0.0.1 port. That artifact
 * ships no pg_basebackup, so the standby is a copy of the cleanly stopped primary's data directory plus
 * standby.signal and primary_conninfo; it then streams WAL from the primary like any physical replica.
 *
 * <p>Roles are fixed at start: {@link #primaryPort()} is the instance that started as primary even after
 * {@link #promoteStandby()}. Instances are addressed by port; use {@link TcpProxy} for a stable "cluster" address.
 */
public final class PostgresCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PostgresCluster.class);
    public static final String USER = "sluice";
    public static final String DATABASE = "sluice";
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Set<PostgresCluster> OPEN = ConcurrentHashMap.newKeySet();
    private static Path sharedBinariesDir;
    private static Path sharedBinaries;

    private final Path root = TestKafka.tempDir("sluice-test-pgcluster");
    private final Node primary = new Node("primary", root.resolve("primary"), FreePort.find());
    private final Node standby = new Node("standby", root.resolve("standby"), FreePort.find());
    private Path bin;
    private boolean started;

    private record Node(String name, Path data, int port) {}

    /** Starts both instances and returns once the standby is streaming from the primary. */
    public synchronized PostgresCluster start() {
        if (started) return this;
        long startedAt = System.nanoTime();
        started = true;
        try {
            bin = binaries();
            OPEN.add(this);
            run(
                    EmbeddedPostgres.command(List.of(
                            bin.resolve("initdb").toString(),
                            "-D",
                            primary.data().toString(),
                            "-U",
                            USER,
                            "-A",
                            "trust",
                            "-E",
                            "UTF8",
                            "--no-locale",
                            "--no-sync")),
                    true);
            Files.writeString(
                    primary.data().resolve("postgresql.conf"),
                    String.join(
                            "\n",
                            "",
                            "listen_addresses = '127.0.0.1'",
                            "unix_socket_directories = ''", // sockets in /tmp would collide between instances
                            "wal_level = replica",
                            "max_wal_senders = 5",
                            "wal_keep_size = '256MB'", // no slot: keep enough WAL for a standby that fell behind
                            "hot_standby = on",
                            "wal_retrieve_retry_interval = '500ms'", // reconnect fast after the primary restarts
                            "fsync = off", // throwaway data; crashes here are process kills, not power loss
                            "shared_buffers = '32MB'",
                            "max_connections = 50",
                            // The server's own record of what it executed: the witness of "no writes" in failover
                            // tests.
                            // 'all', not 'mod': 'mod' classifies a statement by its top level, so a SELECT whose WITH
                            // clause
                            // updates rows (the planner's position update) is not logged. StatementLog classifies
                            // instead.
                            "log_statement = 'all'",
                            "log_line_prefix = '%m [%p] db=%d app=%a: '",
                            ""),
                    APPEND);
            Files.writeString(
                    primary.data().resolve("pg_hba.conf"),
                    "\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n",
                    APPEND);
            startNode(primary, false);
            try (Connection c = connect(primary.port(), "postgres");
                    var s = c.createStatement()) {
                s.execute("CREATE DATABASE " + DATABASE);
            }
            // A clean stop leaves a shutdown checkpoint, so a plain copy is a consistent base backup.
            pgCtl(primary, true, "stop", "-m", "fast", "-w");
            run(List.of("cp", "-a", primary.data().toString(), standby.data().toString()), true);
            Files.deleteIfExists(standby.data().resolve("postmaster.opts"));
            Files.createFile(standby.data().resolve("standby.signal"));
            Files.writeString(
                    standby.data().resolve("postgresql.auto.conf"),
                    "\nprimary_conninfo = 'host=127.0.0.1 port=" + primary.port() + " user=" + USER
                            + " application_name=standby'\n",
                    APPEND);
            startNode(primary, false);
            startNode(standby, false);
            await(
                    "standby streaming",
                    () -> query(
                            primary.port(), "SELECT count(*) > 0 FROM pg_stat_replication WHERE state = 'streaming'"));
            log.info(
                    "PostgreSQL cluster up in {} ms: primary 127.0.0.1:{}, standby 127.0.0.1:{} ({})",
                    (System.nanoTime() - startedAt) / 1_000_000,
                    primary.port(),
                    standby.port(),
                    root);
            return this;
        } catch (IOException | SQLException | RuntimeException e) {
            close();
            throw new IllegalStateException(
                    "PostgreSQL cluster failed to start", e); // pg_ctl errors carry the log tail
        }
    }

    public int primaryPort() {
        return primary.port();
    }

    public int standbyPort() {
        return standby.port();
    }

    public String jdbcUrl(int port, String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public String jdbcUrl(int port) {
        return jdbcUrl(port, DATABASE);
    }

    /** A direct connection (short timeouts, so a dead instance fails fast instead of hanging a test). */
    public Connection connect(int port, String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", USER);
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(jdbcUrl(port, database), props);
    }

    public boolean isInRecovery(int port) {
        return query(port, "SELECT pg_is_in_recovery()");
    }

    /** Promotes the standby to a writable primary and waits until it has left recovery. */
    public void promoteStandby() {
        promote(standby.port());
    }

    public synchronized void promote(int port) {
        query(port, "SELECT pg_promote(true, 30)");
        await("promotion of " + node(port).name(), () -> !isInRecovery(port));
    }

    /** Waits until the standby has replayed everything the primary has written so far. */
    public void awaitStandbyCaughtUp() {
        String lsn = queryString(primary.port(), "SELECT pg_current_wal_lsn()::text");
        await(
                "standby replay of " + lsn,
                () -> query(standby.port(), "SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn"));
    }

    /** The server log of the instance on {@code port} (statements, since start: see {@link StatementLog}). */
    public StatementLog statementLog(int port) {
        return new StatementLog(root.resolve(node(port).name() + ".log"));
    }

    /**
     * Detaches the standby from the primary: WAL replay paused and the replication stream cut (primary_conninfo
     * emptied), so from now on commits on the primary are on the primary only. Pausing replay alone would not do:
     * promotion first replays every WAL record already received. Returns once the primary has no WAL sender.
     */
    public void detachStandby() {
        // Cut first: a startup process paused in replay does not act on the changed primary_conninfo.
        try (Connection c = connect(standby.port(), "postgres");
                var s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET primary_conninfo = ''");
            s.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new IllegalStateException("Could not detach the standby", e);
        }
        await(
                "the primary's WAL sender gone",
                () -> query(primary.port(), "SELECT count(*) = 0 FROM pg_stat_replication"));
        try (Connection c = connect(standby.port(), "postgres");
                var s = c.createStatement()) {
            s.execute("SELECT pg_wal_replay_pause()");
        } catch (SQLException e) {
            throw new IllegalStateException("Could not pause the standby's replay", e);
        }
    }

    /** SIGKILL to the instance's postmaster and every backend at once: a machine that vanished, no shutdown at all. */
    public synchronized void sigkill(int port) {
        Node node = node(port);
        List<ProcessHandle> all =
                processes().stream().filter(p -> belongsTo(p, node)).toList();
        all.forEach(ProcessHandle::destroyForcibly);
        awaitGone(all, Duration.ofSeconds(10));
        try {
            Files.deleteIfExists(node.data().resolve("postmaster.pid")); // so close() does not try to stop it
        } catch (IOException ignored) {
            // best effort
        }
    }

    private boolean belongsTo(ProcessHandle process, Node node) {
        try {
            String pid = Files.readAllLines(node.data().resolve("postmaster.pid"))
                    .getFirst()
                    .strip();
            long postmaster = Long.parseLong(pid);
            return process.pid() == postmaster
                    || process.parent().map(p -> p.pid() == postmaster).orElse(false);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Crashes the primary: immediate shutdown, no checkpoint, clients see their connections drop. */
    public void killPrimary() {
        kill(primary.port());
    }

    public synchronized void kill(int port) {
        stopNode(node(port), "immediate");
    }

    /** Stops (fast) and starts an instance; an old primary stays a writable primary (split brain if promoted). */
    public void restart(int port) {
        restart(port, false);
    }

    /** Restarts with default_transaction_read_only=on: writes fail with SQLSTATE 25006, like a demoted node. */
    public void restartReadOnly(int port) {
        restart(port, true);
    }

    private synchronized void restart(int port, boolean readOnly) {
        stopNode(node(port), "fast");
        startNode(node(port), readOnly);
    }

    public boolean isRunning(int port) {
        try {
            return pgCtl(node(port), false, "status") == 0;
        } catch (IOException e) {
            return false; // e.g. close() deleted the cluster's directory
        }
    }

    /** Every live postgres process of this cluster (postmasters and their backends), e.g. to prove close() works. */
    public List<ProcessHandle> processes() {
        return Stream.of(primary, standby)
                .flatMap(node -> {
                    try { // no pid file means stopped; a half-written one (restart in progress) is skipped too
                        String pid = Files.readAllLines(node.data().resolve("postmaster.pid"))
                                .getFirst()
                                .strip();
                        return ProcessHandle.of(Long.parseLong(pid)).stream()
                                .flatMap(p -> Stream.concat(Stream.of(p), p.descendants()));
                    } catch (IOException | RuntimeException notRunning) {
                        return Stream.empty();
                    }
                })
                .toList();
    }

    /**
     * Whether a process is still running. pg_ctl daemonises the postmaster, so once it exits it is a zombie until
     * the container's init reaps it (seconds, in some containers), and ProcessHandle.isAlive() says true until then.
     */
    public static boolean isLive(ProcessHandle process) {
        if (!process.isAlive()) return false;
        try {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z'; // "pid (comm) STATE ..."
        } catch (IOException | RuntimeException gone) {
            return false;
        }
    }

    /** Stops both instances (always; also after failed tests) and deletes their data. */
    @Override
    public synchronized void close() {
        shutdown();
    }

    private void shutdown() {
        stopAll();
        OPEN.remove(this);
        deleteTree(root);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a leftover temp dir must not fail the test
        }
    }

    private void stopAll() {
        List<ProcessHandle> leftovers = processes();
        for (Node node : List.of(primary, standby)) {
            if (bin == null || !Files.exists(node.data().resolve("postmaster.pid"))) continue;
            try {
                pgCtl(node, false, "stop", "-m", "immediate", "-w", "-t", "10");
            } catch (IOException | RuntimeException e) {
                log.warn("Could not stop {} cleanly; killing it", node.name(), e);
            }
        }
        // pg_ctl could not stop it (or timed out): do not leave servers behind whatever happened. Poll rather than
        // onExit(): for processes that are not our children the JDK polls with a long back-off.
        leftovers.stream().filter(PostgresCluster::isLive).forEach(ProcessHandle::destroyForcibly);
        awaitGone(leftovers, Duration.ofSeconds(5));
    }

    /** Waits (at most {@code atMost}, best effort) until none of the processes is alive. */
    private static void awaitGone(List<ProcessHandle> processes, Duration atMost) {
        try {
            Awaitility.await()
                    .atMost(atMost)
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> processes.stream().noneMatch(PostgresCluster::isLive));
        } catch (ConditionTimeoutException e) {
            // best effort: whatever still lives was SIGKILLed and goes away with the kernel's own pace
        }
    }

    private void startNode(Node node, boolean readOnly) {
        String options = "-p " + node.port() + (readOnly ? " -c default_transaction_read_only=on" : "");
        try {
            pgCtl(
                    node,
                    true,
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    root.resolve(node.name() + ".log").toString(),
                    "-o",
                    options);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage() + "\n" + logTail(node), e); // the log dies with close()
        }
    }

    /** Stops a node if it is running; a node that was killed or already stopped is fine. */
    private void stopNode(Node node, String mode) {
        try {
            if (pgCtl(node, false, "status") == 0) pgCtl(node, true, "stop", "-m", mode, "-w", "-t", "60");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Node node(int port) {
        return Stream.of(primary, standby)
                .filter(n -> n.port() == port)
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No instance of this cluster on port " + port));
    }

    private boolean query(int port, String sql) {
        String value = queryString(port, sql); // PgJDBC renders booleans as "t"/"f" through getString
        return "t".equals(value) || "true".equals(value);
    }

    private String queryString(int port, String sql) {
        try (Connection c = connect(port, "postgres");
                var s = c.createStatement();
                var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException("Query on port " + port + " failed: " + sql, e);
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        AtomicReference<RuntimeException> last = new AtomicReference<>();
        try {
            Awaitility.await(what)
                    .atMost(WAIT)
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        try {
                            return condition.getAsBoolean();
                        } catch (RuntimeException e) {
                            last.set(e); // e.g. the server is still starting up
                            return false;
                        }
                    });
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("Timed out after " + WAIT + " waiting for " + what, last.get());
        }
    }

    private String logTail(Node node) {
        try (Stream<String> lines = Files.lines(root.resolve(node.name() + ".log"))) {
            List<String> all = lines.toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - 20), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log)";
        }
    }

    /** Extracted once per JVM (about 60 MB) and removed by {@link #closeShared()} when the test run ends. */
    private static synchronized Path binaries() throws IOException {
        if (sharedBinaries == null) {
            sharedBinariesDir = TestKafka.tempDir("sluice-test-pgbin");
            sharedBinaries = EmbeddedPostgres.binaries(sharedBinariesDir);
        }
        return sharedBinaries;
    }

    /**
     * Stops the clusters a test left open and deletes the shared binaries; called by {@link SharedServers} when
     * JUnit ends the run.
     */
    static void closeShared() {
        List.copyOf(OPEN).forEach(PostgresCluster::shutdown); // no lock: a stuck test thread may hold it
        Path dir;
        synchronized (PostgresCluster.class) {
            dir = sharedBinariesDir;
            sharedBinariesDir = null;
            sharedBinaries = null;
        }
        if (dir != null) deleteTree(dir);
    }

    private int pgCtl(Node node, boolean check, String... args) throws IOException {
        List<String> command = new ArrayList<>(
                List.of(bin.resolve("pg_ctl").toString(), "-D", node.data().toString()));
        command.addAll(List.of(args));
        return run(EmbeddedPostgres.command(command), check);
    }

    /** Runs a command; with {@code check} a non-zero exit fails with its output. Returns the exit code. */
    private int run(List<String> command, boolean check) throws IOException {
        Path output = Files.createTempFile(root, "cmd-", ".out");
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        try {
            if (!process.waitFor(90, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        int code = process.isAlive() ? -1 : process.exitValue();
        if (check && code != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + code + "): "
                    + Files.readString(output).strip());
        }
        return code;
    }
}
