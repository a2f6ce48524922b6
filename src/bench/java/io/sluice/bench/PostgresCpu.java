package io.sluice.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of the embedded PostgreSQL server, which runs as separate processes: the postmaster (its pid is the first
 * line of {@code postmaster.pid}) and its children, read from {@code /proc/<pid>/stat} (utime + stime, in clock
 * ticks of 10 ms). Children are grouped by their process title ({@code postgres: user database host(port) state}):
 * backends of the queue database, backends of the warehouse, and everything else (checkpointer, WAL writer,
 * autovacuum, the postmaster, plus the CPU of children that exited, which the postmaster collects as cutime/cstime).
 */
final class PostgresCpu {
    static final List<String> GROUPS = List.of("pg queue db", "pg warehouse", "pg other");
    private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ is 100 on Linux

    private final Path pidFile;
    private final long postmasterPid;
    private final String queueDatabase;
    private final String warehouseDatabase;

    /** CPU ticks by pid, with the group each pid belongs to. */
    record Snapshot(Map<Long, Long> ticks, Map<Long, String> groups, long exitedChildrenTicks) {}

    PostgresCpu(Path pgdata, String queueDatabase, String warehouseDatabase) {
        this.pidFile = pgdata.resolve("postmaster.pid");
        this.postmasterPid = -1;
        this.queueDatabase = queueDatabase;
        this.warehouseDatabase = warehouseDatabase;
    }

    /** A server known by its postmaster's pid (e.g. an external warehouse, see {@link #postmasterOf}). */
    PostgresCpu(long postmasterPid, String queueDatabase, String warehouseDatabase) {
        this.pidFile = null;
        this.postmasterPid = postmasterPid;
        this.queueDatabase = queueDatabase;
        this.warehouseDatabase = warehouseDatabase;
    }

    /**
     * The postmaster of the server at {@code url}: the parent of the backend serving a connection, when that server
     * runs on this machine (in this pid namespace); -1 otherwise, and then its CPU cannot be measured.
     */
    static long postmasterOf(String url, String user, String password) {
        try (var c = java.sql.DriverManager.getConnection(url, user, password);
                var st = c.createStatement();
                var rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            String[] f = stat(rs.getLong(1));
            return f == null ? -1 : Long.parseLong(f[1]);
        } catch (Exception e) {
            return -1;
        }
    }

    /** CPU time (utime + stime) a live process used so far; 0 when it is gone. */
    static long cpuNanosOf(long pid) {
        String[] f = stat(pid);
        return f == null ? 0 : ticks(f) * NANOS_PER_TICK;
    }

    /** Cores of all the server's processes together, between two snapshots. */
    static double total(Snapshot before, Snapshot after, double seconds) {
        return cores(before, after, seconds).values().stream()
                .mapToDouble(Double::doubleValue)
                .sum();
    }

    Snapshot snapshot() {
        Map<Long, Long> ticks = new HashMap<>();
        Map<Long, String> groups = new HashMap<>();
        long exited = 0;
        try {
            long postmaster = pidFile == null
                    ? postmasterPid
                    : Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            String[] pm = stat(postmaster);
            if (pm != null) {
                ticks.put(postmaster, ticks(pm));
                groups.put(postmaster, "pg other");
                exited = Long.parseLong(pm[13]) + Long.parseLong(pm[14]);
            }
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                for (Path p : (Iterable<Path>) procs::iterator) {
                    String name = p.getFileName().toString();
                    if (!name.chars().allMatch(Character::isDigit)) continue;
                    long pid = Long.parseLong(name);
                    String[] f = stat(pid);
                    if (f == null || Long.parseLong(f[1]) != postmaster) continue;
                    ticks.put(pid, ticks(f));
                    groups.put(pid, group(p));
                }
            }
        } catch (Exception e) {
            // no server (yet) or /proc unreadable: an empty snapshot
        }
        return new Snapshot(ticks, groups, exited);
    }

    /** Cores used per group between two snapshots taken {@code seconds} apart. */
    static Map<String, Double> cores(Snapshot before, Snapshot after, double seconds) {
        Map<String, Double> cores = new LinkedHashMap<>();
        GROUPS.forEach(g -> cores.put(g, 0.0));
        after.ticks().forEach((pid, t) -> {
            long used = t - before.ticks().getOrDefault(pid, 0L);
            cores.merge(after.groups().get(pid), used * NANOS_PER_TICK / 1e9 / seconds, Double::sum);
        });
        long exited = after.exitedChildrenTicks() - before.exitedChildrenTicks();
        cores.merge("pg other", exited * NANOS_PER_TICK / 1e9 / seconds, Double::sum);
        return cores;
    }

    private String group(Path proc) {
        try {
            String title = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ')
                    .trim();
            String[] words = title.split("\\s+");
            // "postgres: <user> <database> <host(port)> <state>" for backends; "postgres: checkpointer" etc. otherwise
            if (words.length >= 4 && words[3].contains("(")) {
                if (words[2].equals(queueDatabase)) return "pg queue db";
                if (words[2].equals(warehouseDatabase)) return "pg warehouse";
            }
        } catch (Exception e) {
            // gone meanwhile
        }
        return "pg other";
    }

    /** The fields after the command name of /proc/pid/stat: [0] = state, [1] = ppid, [11] = utime, [12] = stime. */
    private static String[] stat(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return s.substring(s.lastIndexOf(')') + 2).split(" ");
        } catch (Exception e) {
            return null;
        }
    }

    private static long ticks(String[] f) {
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
