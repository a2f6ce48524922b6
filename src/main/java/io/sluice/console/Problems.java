package io.sluice.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What is wrong now, worst first, from the overview's own data: the overview page leads with this list, so a
 * database pause, an outage or an old backlog is never hidden behind healthy-looking rates. Each problem has a
 * severity ({@code outage}: nothing gets through; {@code degraded}: some does; {@code warning}: watch it), a text
 * and a link to the page that explains it.
 */
final class Problems {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A backlog older than this is reported even while it moves. */
    static final long OLD_BACKLOG_SECONDS = 60;

    private Problems() {}

    static ArrayNode of(JsonNode overview) {
        ArrayNode out = JSON.createArrayNode();
        JsonNode kafka = overview.path("kafka");
        if (kafka.has("reachable") && !kafka.path("reachable").asBoolean())
            add(
                    out,
                    "outage",
                    "kafka",
                    "Kafka unavailable: " + kafka.path("detail").asText(""),
                    "/");
        JsonNode db = overview.path("databaseState");
        String unreadable = db.path("readable").asBoolean(true)
                ? ""
                : "; the queue cannot be read, its figures are missing ("
                        + db.path("readError").asText("") + ")";
        if (db.path("present").asBoolean() && !db.path("writable").asBoolean(true)) {
            boolean paused =
                    db.path("paused").asBoolean() || db.path("pauseRequested").asBoolean();
            add(
                    out,
                    "outage",
                    "database",
                    (paused ? "Database writes paused by an operator" : "Database writes held")
                            + ": nothing is planned or delivered ("
                            + db.path("heldBecause").asText("") + ")" + unreadable,
                    "/database");
        } else if (!unreadable.isEmpty())
            add(out, "outage", "database", "Queue database unreachable" + unreadable, "/database");
        for (JsonNode alarm : overview.path("alarms")) {
            String change = alarm.has("to")
                    ? ": the writer changed from " + alarm.path("from").asText() + " to "
                            + alarm.path("to").asText()
                    : "";
            if (alarm.path("active").asBoolean())
                add(
                        out,
                        "outage",
                        "alarm",
                        "Database alarm: " + alarm.path("alarm").asText() + change
                                + (change.isEmpty() ? "" : ", queue writes held until it is stable"),
                        "/database");
            else if (alarm.path("recentChange").asBoolean())
                add(
                        out,
                        "warning",
                        "writer-changed",
                        "Database writer changed from " + alarm.path("from").asText() + " to "
                                + alarm.path("to").asText() + " at "
                                + alarm.path("at").asText()
                                + "; queue writes go ahead again",
                        "/database");
        }
        for (JsonNode sync : overview.path("syncs")) syncProblems(out, sync);
        return out;
    }

    private static void syncProblems(ArrayNode out, JsonNode s) {
        String id = s.path("id").asText();
        String link = "/syncs/" + id;
        String state = s.path("state").asText();
        double rate = s.path("errorRatePercent").asDouble();
        if ("open".equals(s.path("destinationHealth").path("circuit").asText()))
            add(
                    out,
                    "outage",
                    "circuit",
                    "Sync " + id + ": circuit open, destination "
                            + s.path("destination").asText() + " not called",
                    link);
        else if ("failing".equals(state))
            add(
                    out,
                    "outage",
                    "failing",
                    "Sync " + id + ": failing, "
                            + (s.has("recentErrorRatePercent")
                                    // the state is decided on the last seconds: say so, or a minute's low rate
                                    // would read as noise while nothing gets through
                                    ? percent(s.path("recentErrorRatePercent").asDouble())
                                            + " of deliveries failed in the last 5 s (" + percent(rate)
                                            + " in the last minute)"
                                    : percent(rate) + " of deliveries failed in the last minute"),
                    link);
        else if ("retrying".equals(state))
            add(
                    out,
                    "degraded",
                    "retrying",
                    "Sync " + id + ": retrying, " + percent(rate) + " of deliveries failed in the last minute"
                            + (s.path("retryDepth").asLong() > 0
                                    ? ", " + s.path("retryDepth").asLong() + " events in the retry queue"
                                    : ""),
                    link);
        else if (rate > 0)
            add(
                    out,
                    "warning",
                    "recovered",
                    "Sync " + id + ": " + percent(rate) + " of deliveries failed in the last minute, none lately",
                    link);
        long age = s.path("ageSeconds").asLong();
        if (s.path("lagEvents").asLong() > 0 && age >= OLD_BACKLOG_SECONDS)
            add(
                    out,
                    "warning",
                    "backlog",
                    "Sync " + id + ": backlog of " + s.path("lagEvents").asLong() + " events, oldest " + age + " s old",
                    link);
        long dead = s.path("deadLettered5m").asLong();
        if (dead > 0)
            add(
                    out,
                    "warning",
                    "dead-letters",
                    "Sync " + id + ": " + dead + " events dead-lettered in the last 5 min",
                    "/dead-letters?sync=" + id);
        long fn = s.path("functionErrors5m").asLong();
        if (fn > 0)
            add(
                    out,
                    "warning",
                    "function",
                    "Sync " + id + ": its function failed on " + fn + " events in the last 5 min",
                    "/functions");
    }

    private static String percent(double value) {
        return (value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value)) + " %";
    }

    private static void add(ArrayNode out, String severity, String kind, String text, String link) {
        ObjectNode p = JSON.createObjectNode()
                .put("severity", severity)
                .put("kind", kind)
                .put("text", text)
                .put("link", link);
        int rank = rank(severity);
        int at = 0;
        while (at < out.size() && rank(out.get(at).path("severity").asText()) <= rank) at++;
        out.insert(at, p);
    }

    private static int rank(String severity) {
        return switch (severity) {
            case "outage" -> 0;
            case "degraded" -> 1;
            default -> 2;
        };
    }
}
