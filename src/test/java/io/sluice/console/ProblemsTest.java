package io.sluice.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** The overview's truth rules (issue 25): sync states and the problem list, from the overview's own data. */
class ProblemsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final SyncHealth.Stats QUIET = new SyncHealth.Stats(0, 0, 0, 0, 0);

    @Test
    void aNormalSixPercentErrorRateIsRetryingNotAnOutage() {
        var stats = new SyncHealth.Stats(94, 6, 0, 0, 0);
        assertThat(stats.failureRate()).isEqualTo(0.06);
        assertThat(SyncHealth.state(false, false, false, false, 10, stats)).isEqualTo("retrying");
        JsonNode problems = Problems.of(overview(sync("s", "retrying", 6.0, 10, 2)));
        assertThat(severities(problems)).containsExactly("degraded");
        assertThat(problems.get(0).path("text").asText()).contains("retrying", "6 %");
    }

    @Test
    void anOutageIsFailingNotRetrying() {
        assertThat(SyncHealth.state(false, false, false, false, 10, new SyncHealth.Stats(0, 12, 0, 0, 0)))
                .isEqualTo("failing");
        assertThat(SyncHealth.state(false, false, false, false, 10, new SyncHealth.Stats(20, 30, 0, 0, 0)))
                .isEqualTo("failing");
        assertThat(SyncHealth.state(false, false, true, false, 10, QUIET))
                .as("an open circuit sends nothing")
                .isEqualTo("failing");
        assertThat(severities(Problems.of(overview(sync("s", "failing", 100.0, 10, 2)))))
                .containsExactly("outage");
        ObjectNode justStarted = sync("s", "failing", 10.7, 10, 2).put("recentErrorRatePercent", 100.0);
        assertThat(Problems.of(overview(justStarted)).get(0).path("text").asText())
                .as("the rate that decided it is named, not only the minute's")
                .contains("failing, 100 % of deliveries failed in the last 5 s (10.7 % in the last minute)");
    }

    @Test
    void anOutageThatEndedIsNoLongerFailing() {
        // a minute with 30 failures, none in the last 10 s with deliveries going again
        var after = new SyncHealth.Stats(40, 30, 0, 0, 0, 8, 0);
        assertThat(SyncHealth.state(false, false, false, false, 0, after)).isEqualTo("idle");
        var during = new SyncHealth.Stats(40, 30, 0, 0, 0, 0, 4);
        assertThat(SyncHealth.state(false, false, false, false, 5, during)).isEqualTo("failing");
    }

    @Test
    void aBacklogTheDatabaseHoldsIsHeldAndTheDatabaseIsNamed() {
        // bug 5: with writes paused nothing is planned, so the queue is empty while events wait in Kafka
        assertThat(SyncHealth.state(false, true, false, false, 180, QUIET)).isEqualTo("held");
        assertThat(SyncHealth.state(false, true, false, false, 0, QUIET)).isEqualTo("idle");
        ObjectNode o = overview(sync("s", "held", 0, 180, 43));
        o.putObject("databaseState")
                .put("present", true)
                .put("writable", false)
                .put("paused", true)
                .put("heldBecause", "paused by an operator");
        JsonNode problems = Problems.of(o);
        assertThat(problems.get(0).path("kind").asText()).isEqualTo("database");
        assertThat(problems.get(0).path("text").asText()).contains("Database writes paused");
    }

    @Test
    void oldBacklogsDeadLettersFunctionErrorsKafkaAndAlarmsAreEachReportedWorstFirst() {
        ObjectNode s = sync("s", "delivering", 0, 500, 240);
        s.put("deadLettered5m", 3).put("functionErrors5m", 2);
        ObjectNode o = overview(s);
        o.putObject("kafka").put("reachable", false).put("detail", "no broker answered");
        o.putArray("alarms").addObject().put("alarm", "writer_changed").put("active", true);
        JsonNode problems = Problems.of(o);
        assertThat(kinds(problems)).containsExactly("kafka", "alarm", "backlog", "dead-letters", "function");
        assertThat(severities(problems)).containsExactly("outage", "outage", "warning", "warning", "warning");
        assertThat(problems.get(2).path("text").asText()).contains("500 events", "240 s");
    }

    @Test
    void aWriterChangeIsAnOutageWhileWritesAreHeldAndOnlyAWarningOnceTheyGoAheadAgain() {
        ObjectNode o = overview(sync("s", "idle", 0, 0, 0));
        ObjectNode alarm = o.putArray("alarms")
                .addObject()
                .put("alarm", "writer_changed")
                .put("active", true)
                .put("from", "10.0.0.1:5432")
                .put("to", "10.0.0.2:5432")
                .put("at", "2026-12-08T02:00:00Z");
        JsonNode during = Problems.of(o);
        assertThat(kinds(during)).containsExactly("alarm");
        assertThat(severities(during)).containsExactly("outage");
        assertThat(during.get(0).path("text").asText())
                .contains("writer_changed", "10.0.0.1:5432 to 10.0.0.2:5432", "held");

        alarm.put("active", false).put("recentChange", true);
        JsonNode after = Problems.of(o);
        assertThat(kinds(after)).containsExactly("writer-changed");
        assertThat(severities(after)).containsExactly("warning");
        assertThat(after.get(0).path("text").asText()).contains("10.0.0.1:5432 to 10.0.0.2:5432", "go ahead again");

        alarm.put("recentChange", false);
        assertThat(Problems.of(o)).as("long after the change").isEmpty();
    }

    @Test
    void aHealthySystemHasNoProblems() {
        assertThat(SyncHealth.state(false, false, false, false, 0, new SyncHealth.Stats(50, 0, 0, 0, 0)))
                .isEqualTo("idle");
        ObjectNode o = overview(sync("s", "idle", 0, 0, 0));
        o.putObject("kafka").put("reachable", true);
        assertThat(Problems.of(o)).isEmpty();
    }

    static ObjectNode sync(String id, String state, double rate, long lag, long age) {
        return JSON.createObjectNode()
                .put("id", id)
                .put("destination", "hook")
                .put("state", state)
                .put("errorRatePercent", rate)
                .put("lagEvents", lag)
                .put("ageSeconds", age);
    }

    static ObjectNode overview(ObjectNode sync) {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("syncs").add(sync);
        return o;
    }

    static List<String> severities(JsonNode problems) {
        return StreamSupport.stream(problems.spliterator(), false)
                .map(p -> p.path("severity").asText())
                .toList();
    }

    static List<String> kinds(JsonNode problems) {
        return StreamSupport.stream(problems.spliterator(), false)
                .map(p -> p.path("kind").asText())
                .toList();
    }
}
