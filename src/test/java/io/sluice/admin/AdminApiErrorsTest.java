package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.Http;
import io.sluice.support.RawHttp;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TopicReader;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue #12, defect 12 and the minor ones: the admin API answers bad parameters, wrong methods and paths with JSON 4xx. */
class AdminApiErrorsTest {
    static final String TOKEN = "Bearer s3cret-token";

    @TempDir
    Path dir;

    @Test
    void badParametersWrongMethodsAndUnknownPathsAreJson4xx() throws Exception {
        String queueUrl = TestPostgres.createDatabase("adminerrors");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config, """
                kafka: {bootstrapServers: "%s", eventsTopic: admin-%s}
                postgres: {url: "%s", user: sluice}
                admin: {host: 127.0.0.1, port: 0, token: s3cret-token}
                sources: [{id: web, writeKey: k}]
                destinations: [{id: hooks, type: webhook, url: "http://127.0.0.1:1/hook"}]
                syncs: [{id: web-to-hooks, source: web, destination: hooks}]
                planner: {groupId: admin-%s}
                """.formatted(TestKafka.bootstrapServers(), UUID.randomUUID(), queueUrl, UUID.randomUUID()));
        try (Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).load(config), EnumSet.of(Sluice.Role.PLANNER), false, Clock.systemUTC())) {
            sluice.start();
            String admin = sluice.adminUrl();
            for (String query : new String[] {
                "limit=abc",
                "limit=-1",
                "limit=0",
                "limit=99999999999",
                "since=garbage",
                "since=999999999999h",
                "since=-5-01-01T00:00:00Z",
                "since=9999999d",
                "since=2999-01-01T00:00:00Z"
            }) {
                assertError(
                        Http.request("GET", admin + "/admin/dlq?" + query, "Authorization", TOKEN),
                        400,
                        "invalid_parameter");
            }
            assertError(
                    Http.request("GET", admin + "/admin/dlq/abc", "Authorization", TOKEN), 400, "invalid_parameter");
            assertError(Http.request("GET", admin + "/admin/dlq/-3", "Authorization", TOKEN), 400, "invalid_parameter");
            assertError(Http.post(admin + "/admin/dlq/replay", "{bad", "Authorization", TOKEN), 400, "invalid_json");
            assertError(Http.post(admin + "/admin/dlq/replay", "[1]", "Authorization", TOKEN), 400, "invalid_json");
            assertError(
                    Http.post(admin + "/admin/dlq/replay", "{\"since\":\"garbage\"}", "Authorization", TOKEN),
                    400,
                    "invalid_parameter");
            assertError(
                    Http.post(admin + "/admin/dlq/replay", "{\"ids\":\"all\"}", "Authorization", TOKEN),
                    400,
                    "invalid_parameter");
            assertError(
                    Http.post(admin + "/admin/dlq/replay", "{\"ids\":[1.5]}", "Authorization", TOKEN),
                    400,
                    "invalid_parameter");
            assertError(
                    Http.post(admin + "/admin/dlq/replay", "{\"sync\":{}}", "Authorization", TOKEN),
                    400,
                    "invalid_parameter");
            assertError(Http.get(admin + "/admin/dlq"), 401, "invalid_admin_token");
            assertError(Http.request("DELETE", admin + "/health"), 405, "method_not_allowed");
            assertError(Http.request("GET", admin + "/nothing/here"), 404, "not_found");
            assertError(Http.request("GET", admin + "/admin/dlq/999999", "Authorization", TOKEN), 404, "not_found");
            // still fine with good parameters
            var ok = Http.request("GET", admin + "/admin/dlq?limit=5&since=2h", "Authorization", TOKEN);
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(TopicReader.json(ok.body()).isArray()).isTrue();
            RawHttp.Response tooLong = RawHttp.exchange(
                    admin + "/health",
                    ("GET /health?" + "q".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(),
                    false,
                    5000);
            assertThat(tooLong.status()).isEqualTo(414);
            assertThat(TopicReader.json(tooLong.body()).get("rule").asText()).isEqualTo("uri_too_long");
            assertThat(Http.get(admin + "/metrics").body())
                    .contains("sluice_http_errors_total{rule=\"invalid_parameter\",server=\"admin\",status=\"400\"}");
        }
    }

    private static void assertError(HttpResponse<String> response, int status, String rule) {
        assertThat(response.statusCode())
                .as(response.uri() + " " + response.body())
                .isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode body = TopicReader.json(response.body());
        assertThat(body.get("rule").asText()).as(response.body()).isEqualTo(rule);
        assertThat(body.get("error").asText()).isNotBlank();
    }
}
