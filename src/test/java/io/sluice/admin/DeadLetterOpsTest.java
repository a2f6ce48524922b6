package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ConfigLoader;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterKind;
import io.sluice.queue.DeadLetterStore;
import io.sluice.runtime.Sluice;
import io.sluice.support.Cli;
import io.sluice.support.Http;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dead letters through `sluice dlq list|show|replay` and the admin API (token-protected). */
class DeadLetterOpsTest {
    @TempDir
    Path dir;

    @Test
    void listShowAndReplayFromTheCliAndTheAdminApi() throws Exception {
        String queueUrl = TestPostgres.createDatabase("dlq");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config, """
                kafka: {bootstrapServers: "%s", eventsTopic: dlq-%s}
                postgres: {url: "%s", user: sluice}
                admin: {host: 127.0.0.1, port: 0, token: s3cret-token}
                sources: [{id: web, writeKey: k}]
                destinations: [{id: hooks, type: webhook, url: "http://127.0.0.1:1/hook"}]
                syncs: [{id: web-to-hooks, source: web, destination: hooks}]
                planner: {groupId: dlq-%s}
                """.formatted(TestKafka.bootstrapServers(), UUID.randomUUID(), queueUrl, UUID.randomUUID()));
        try (Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).load(config), EnumSet.of(Sluice.Role.PLANNER), false, Clock.systemUTC())) {
            sluice.start();
            DeadLetterStore store =
                    new DeadLetterStore(dataSource(queueUrl), sluice.guard().gate());
            ObjectMapper json = new ObjectMapper();
            for (int i = 0; i < 3; i++) {
                ObjectNode event = (ObjectNode) json.readTree(
                        "{\"type\":\"track\",\"userId\":\"u" + i + "\",\"messageId\":\"m" + i + "\",\"event\":\"E\"}");
                store.add(
                        List.of(DeadLetter.of(
                                "web-to-hooks",
                                event,
                                DeadLetterKind.DELIVERY,
                                "HTTP 400: {\"error\":\"bad field\"}",
                                400,
                                1,
                                7L)),
                        Instant.now());
            }

            String list = Cli.run("dlq", "list", "--config", config.toString(), "--sync", "web-to-hooks");
            assertThat(list.lines())
                    .hasSize(3)
                    .allSatisfy(line -> assertThat(line).contains("web-to-hooks", "attempts=1", "HTTP 400"));
            long firstId = Long.parseLong(list.lines()
                    .filter(l -> l.contains(" m0 "))
                    .findFirst()
                    .orElseThrow()
                    .trim()
                    .split("\\s+")[0]);
            assertThat(Cli.run("dlq", "show", "--config", config.toString(), Long.toString(firstId)))
                    .contains("messageId:   m0", "status code: 400", "\"userId\" : \"u0\"");

            String admin = sluice.adminUrl();
            assertThat(Http.get(admin + "/admin/dlq").statusCode())
                    .as("token required")
                    .isEqualTo(401);
            var listed =
                    Http.request("GET", admin + "/admin/dlq?sync=web-to-hooks", "Authorization", "Bearer s3cret-token");
            assertThat(listed.statusCode()).isEqualTo(200);
            assertThat(json.readTree(listed.body())).hasSize(3);
            var replayedOne = Http.post(
                    admin + "/admin/dlq/replay", "{\"ids\":[" + firstId + "]}", "Authorization", "Bearer s3cret-token");
            assertThat(replayedOne.body())
                    .isEqualTo("{\"replayed\":1,\"handedBack\":1,\"failedAgain\":0,\"ids\":[" + firstId + "]}");

            assertThat(Cli.run("dlq", "replay", "--config", config.toString(), "--sync", "web-to-hooks"))
                    .contains("Replayed 2 dead letter(s)");
            assertThat(Cli.run("dlq", "list", "--config", config.toString())).contains("No dead letters.");
            try (var c = DriverManager.getConnection(queueUrl, "sluice", "");
                    var rs = c.createStatement()
                            .executeQuery(
                                    "SELECT count(*), count(DISTINCT message_id) FROM retry_events WHERE attempts = 0")) {
                rs.next();
                assertThat(rs.getInt(1))
                        .as("all three are back in delivery, once each")
                        .isEqualTo(3);
                assertThat(rs.getInt(2)).isEqualTo(3);
            }
        }
    }

    /**
     * messageIds with a newline, a CR, a NUL, a bidi mark or a literal backslash: `dlq list` prints one line per dead
     * letter (control and format characters escaped), `dlq show` and the admin API show the exact id, and the two ids
     * "x\u0000" (NUL) and "x\\u0000" (a backslash) stay two dead letters.
     */
    @Test
    void hostileMessageIdsListOneLineEachAndStayDistinct() throws Exception {
        String queueUrl = TestPostgres.createDatabase("dlqids");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config, """
                kafka: {bootstrapServers: "%s", eventsTopic: dlq-%s}
                postgres: {url: "%s", user: sluice}
                admin: {host: 127.0.0.1, port: 0, token: s3cret-token}
                sources: [{id: web, writeKey: k}]
                destinations: [{id: hooks, type: webhook, url: "http://127.0.0.1:1/hook"}]
                syncs: [{id: web-to-hooks, source: web, destination: hooks}]
                planner: {groupId: dlq-%s}
                """.formatted(TestKafka.bootstrapServers(), UUID.randomUUID(), queueUrl, UUID.randomUUID()));
        List<String> ids = List.of("line\nbreak", "cr\rreturn", "x\u0000", "x\\u0000", "\u202eevil\u200f", "tab\tid");
        try (Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).load(config), EnumSet.of(Sluice.Role.PLANNER), false, Clock.systemUTC())) {
            sluice.start();
            DeadLetterStore store =
                    new DeadLetterStore(dataSource(queueUrl), sluice.guard().gate());
            ObjectMapper json = new ObjectMapper();
            for (String id : ids) {
                ObjectNode event = json.createObjectNode().put("type", "track").put("messageId", id);
                store.add(
                        List.of(DeadLetter.of(
                                "web-to-hooks", event, DeadLetterKind.DELIVERY, "HTTP 400: bad " + id, 400, 1, 7L)),
                        Instant.now());
            }

            String list = Cli.run("dlq", "list", "--config", config.toString(), "--sync", "web-to-hooks");
            assertThat(list.lines()).as("one line per dead letter").hasSize(ids.size());
            assertThat(list)
                    .contains("line\\u000abreak", "cr\\u000dreturn", "x\\u0000", "x\\\\u0000", "\\u202eevil\\u200f");
            long nulId = Long.parseLong(list.lines()
                    .filter(l -> l.contains(" x\\u0000 "))
                    .findFirst()
                    .orElseThrow()
                    .trim()
                    .split("\\s+")[0]);
            assertThat(Cli.run("dlq", "show", "--config", config.toString(), Long.toString(nulId)))
                    .contains("messageId:   x\\u0000\n");

            var listed = Http.request(
                    "GET", sluice.adminUrl() + "/admin/dlq?sync=web-to-hooks", "Authorization", "Bearer s3cret-token");
            assertThat(json.readTree(listed.body()).findValuesAsText("messageId"))
                    .as("JSON-escaped, exact")
                    .containsExactlyInAnyOrderElementsOf(ids);
        }
    }

    private static DataSource dataSource(String url) {
        return TestPostgres.dataSource(url);
    }
}
