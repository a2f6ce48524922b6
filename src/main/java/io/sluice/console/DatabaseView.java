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
import java.time.Instant;
import java.util.List;

/**
 * The console's database page: the endpoint and each watched instance with its role, the writer changes this
 * process saw, the failover alarms, this process's write gate, and every process's quiesce report from the
 * control topic, with whether it is safe to fail over now (paused, and every live process quiesced).
 */
final class DatabaseView {
    private static final ObjectMapper JSON = new ObjectMapper();
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
}
