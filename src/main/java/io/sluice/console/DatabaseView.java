package io.sluice.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.sluice.failover.Alarms;
import io.sluice.failover.ProcessReport;
import io.sluice.failover.WriteGate;
import io.sluice.failover.WriterIdentity;
import io.sluice.failover.WriterMonitor;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The console's database page: the endpoint and each watched instance with its role, the writer changes this
 * process saw, the failover alarms, this process's write gate, and every process's quiesce report from the
 * control topic, with whether it is safe to fail over now (paused, and every live process quiesced).
 */
final class DatabaseView {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long the overview mentions a writer change after writes went ahead again (as dead letters: 5 min). */
    static final Duration RECENT_WRITER_CHANGE = Duration.ofMinutes(5);

    private final Console.Parts parts;

    DatabaseView(Console.Parts parts) {
        this.parts = parts;
    }

    ObjectNode toJson() {
        ObjectNode out = JSON.createObjectNode();
        WriterMonitor monitor = parts.writerMonitor();
        out.put("present", monitor != null);
        out.set("alarms", alarms());
        if (monitor == null) return out;
        out.putObject("endpoint").put("label", monitor.endpointLabel()).put("role", monitor.endpointRole());
        ArrayNode instances = out.putArray("instances");
        monitor.instanceRoles()
                .forEach((label, role) ->
                        instances.addObject().put("label", label).put("role", role));
        out.put("writer", monitor.lastWriter());
        ArrayNode history = out.putArray("writerHistory");
        for (WriterMonitor.WriterChange change : monitor.history()) {
            history.addObject()
                    .put("from", change.from())
                    .put("to", change.to())
                    .put("at", change.at().toString());
        }
        WriteGate gate = parts.gate();
        WriterIdentity writer = gate.writer();
        out.putObject("gate")
                .put("paused", gate.paused())
                .put("writable", gate.isWritable())
                .put("heldBecause", gate.heldBecause())
                .put("writer", writer == null ? null : writer.toString())
                .put("thisProcess", parts.quiesceState().get());
        if (parts.control() == null) return out;
        Instant now = parts.clock().instant();
        boolean paused = parts.control().paused();
        out.put("pauseRequested", paused);
        ArrayNode processes = out.putArray("processes");
        List<ProcessReport> reports = parts.control().reports().values().stream()
                .sorted((a, b) -> a.id().compareTo(b.id()))
                .toList();
        boolean allQuiesced = true;
        int live = 0;
        for (ProcessReport r : reports) {
            boolean isLive = r.live(now);
            if (isLive) {
                live++;
                allQuiesced &= r.state().equals("quiesced");
            }
            processes
                    .addObject()
                    .put("id", r.id())
                    .put("roles", r.roles())
                    .put("state", r.state())
                    .put("live", isLive)
                    .put("writer", r.writer())
                    .put("heldBecause", r.heldBecause())
                    .put("lastWriterChange", r.lastWriterChange())
                    .put("at", r.at().toString());
        }
        boolean safe = paused && allQuiesced;
        out.put("safeToFailOver", safe);
        out.put(
                "safeReason",
                !paused
                        ? "queue writes are not paused"
                        : safe
                                ? (live == 0
                                        ? "no live Sluice process writes to the database"
                                        : live + " process(es) quiesced")
                                : "waiting for every live process to report quiesced");
        return out;
    }

    /** Each failover alarm with whether it is raised in this process (the {@code sluice_db_alarm} gauge). */
    ArrayNode alarms() {
        ArrayNode out = JSON.createArrayNode();
        for (String alarm : List.of(Alarms.SPLIT_WRITER, Alarms.ENDPOINT_NOT_WRITER, Alarms.WRITER_CHANGED)) {
            Gauge gauge =
                    parts.registry().find("sluice.db.alarm").tag("alarm", alarm).gauge();
            if (gauge != null) out.addObject().put("alarm", alarm).put("active", gauge.value() >= 1);
        }
        return out;
    }

    /**
     * The alarms as the overview weighs them. {@code writer_changed} is an event alarm: its gauge stays raised for
     * the process's life, so "active" here means the change is not over: queue writes are still held (the new writer
     * not yet stable, the endpoint not pointing at it). Once writes go ahead it is no outage any more; for
     * {@link #RECENT_WRITER_CHANGE} afterwards it carries {@code recentChange} (from, to, at) so the overview can
     * still say that it happened.
     */
    ArrayNode overviewAlarms() {
        ArrayNode out = alarms();
        WriterMonitor monitor = parts.writerMonitor();
        WriteGate gate = parts.gate();
        for (var node : out) {
            ObjectNode alarm = (ObjectNode) node;
            if (!Alarms.WRITER_CHANGED.equals(alarm.path("alarm").asText())
                    || !alarm.path("active").asBoolean()) continue;
            boolean settled = gate != null && gate.isWritable();
            alarm.put("active", !settled);
            List<WriterMonitor.WriterChange> history = monitor == null ? List.of() : monitor.history();
            if (history.isEmpty()) continue;
            WriterMonitor.WriterChange last = history.get(history.size() - 1);
            alarm.put("from", last.from())
                    .put("to", last.to())
                    .put("at", last.at().toString());
            Instant now = parts.clock().instant();
            if (settled && last.at().plus(RECENT_WRITER_CHANGE).isAfter(now)) alarm.put("recentChange", true);
        }
        return out;
    }
}
