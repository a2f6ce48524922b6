package io.sluice.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

/**
 * The scaling curve: one row per step of {@code bench pipeline --curve}, with what each process cost per event. CPU
 * microseconds per event are a process's cores over the window times 10^6 divided by the events accepted per second
 * in that window, so they add up across processes and do not depend on how busy the machine was.
 */
final class CurveReport {
    private CurveReport() {}

    static String render(PipelineRun.Options o, List<String> steps, List<PipelineReport.Figures> figures) {
        StringBuilder out = new StringBuilder("# Scaling curve\n\n");
        out.append("Command: `").append(o.command()).append("`\n\n");
        out.append("Date: ")
                .append(Instant.now().truncatedTo(ChronoUnit.SECONDS))
                .append("; load average now: ")
                .append(loadAverage())
                .append("\n\nMachine: ")
                .append(BenchReport.machine())
                .append("\n\n");
        PipelineReport.Figures first = figures.get(0);
        out.append(String.format(
                Locale.ROOT,
                "Warehouse: %s. %d partitions; load from a separate JVM; %ds warm-up + %ds measured per step; "
                        + "e2e = %s minus received_at.%n%n",
                first.warehouse,
                first.config.kafka().partitions(),
                o.warmup().toSeconds(),
                o.duration().toSeconds(),
                first.commitTimestamps ? "warehouse commit time (pg_xact_commit_timestamp)" : "uuid_ts"));
        out.append(
                "| step | accepted ev/s | delivered ev/s | e2e p50 ms | e2e p99 ms | µs/ev Sluice JVM | µs/ev load JVM "
                        + "| µs/ev PG embedded (queue+warehouse dbs) | µs/ev PG external warehouse | heap peak MB | RSS peak MB "
                        + "| queue stmts /10k | queue xacts /10k | kept up | blast ev/s (first send -> last row) | other procs cores |\n");
        out.append("|---|").append("--:|".repeat(15)).append('\n');
        for (int i = 0; i < figures.size(); i++) {
            PipelineReport.Figures f = figures.get(i);
            long accepted = f.edges.get("accepted")[1] - f.edges.get("accepted")[0];
            double rate = accepted / f.seconds;
            double pgEmbedded =
                    f.pgCores.values().stream().mapToDouble(Double::doubleValue).sum();
            double perTenK = 10_000.0 / Math.max(1, accepted);
            long backlog = f.edges.get("accepted")[1] - f.edges.get("delivered")[1];
            boolean keptUp = !f.closed
                    && backlog <= rate * 2
                    && !Double.isNaN(f.drainedAfterSeconds)
                    && f.drainedAfterSeconds <= 5;
            double wh = Double.isNaN(f.warehouseServerCores) ? 0 : f.warehouseServerCores;
            double others = Math.max(0, f.usage.otherProcessCores() - pgEmbedded - wh - f.loadCores);
            LatencyHistogram e2e = f.latency.toCommitMicros();
            out.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %s | %d | %d | %.1f | %.1f | %s | %s | %.2f |%n",
                    steps.get(i),
                    BenchReport.num(rate),
                    BenchReport.num(f.committed[0] / f.seconds),
                    e2e.count() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", e2e.percentile(50) / 1000.0),
                    e2e.count() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", e2e.percentile(99) / 1000.0),
                    micros(f.usage.processCores(), rate),
                    micros(f.loadCores, rate),
                    micros(pgEmbedded, rate),
                    Double.isNaN(f.warehouseServerCores)
                            ? "-"
                            : String.format(Locale.ROOT, "%.1f", micros(f.warehouseServerCores, rate)),
                    f.usage.heapPeakBytes() >> 20,
                    f.usage.rssPeakBytes() >> 20,
                    f.server.calls() * perTenK,
                    f.server.commits() * perTenK,
                    f.closed ? "-" : keptUp ? "yes" : "NO",
                    Double.isNaN(f.blastEventsPerSecond) ? "-" : BenchReport.num(f.blastEventsPerSecond),
                    others));
        }
        out.append("""

                - accepted: events answered 200 in the window; delivered: `tracks` rows committed to the warehouse in the window.
                - µs/ev: the process's CPU (Sluice JVM: ThreadMXBean process time; load JVM: its own; PostgreSQL: utime+stime
                  of the postmaster and all its children from /proc) per accepted event.
                - queue stmts / xacts per 10k: counted by the queue database's server over the window (pg_stat_statements calls,
                  BEGIN/COMMIT included; pg_stat_database xact_commit + xact_rollback of the database `sluice`).
                - kept up: backlog at the window's end <= 2 s of load and the tail drained within 5 s.
                - other procs: machine CPU beyond the Sluice JVM, the load JVM and PostgreSQL (anything > 0.1 disturbs the run).
                """);
        return out.toString();
    }

    private static double micros(double cores, double eventsPerSecond) {
        return eventsPerSecond <= 0 ? Double.NaN : cores * 1e6 / eventsPerSecond;
    }

    /** The 1, 5 and 15 minute load averages, from /proc/loadavg. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (Exception e) {
            return "?";
        }
    }
}
