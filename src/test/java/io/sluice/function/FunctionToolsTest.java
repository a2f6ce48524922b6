package io.sluice.function;

import static io.sluice.function.FunctionFixtures.JSON;
import static io.sluice.function.FunctionFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.admin.AdminServer;
import io.sluice.admin.FunctionAdminRoutes;
import io.sluice.admin.KafkaHealth;
import io.sluice.cli.SluiceCli;
import io.sluice.config.SluiceConfig.AdminSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice function test} (through picocli, in-process) and {@code POST /admin/functions/test}. */
class FunctionToolsTest {
    @TempDir
    Path dir;

    private record Cli(int exit, String out) {}

    private static Cli sluice(String... args) {
        PrintStream realOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            int exit = SluiceCli.run(args);
            return new Cli(exit, out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(realOut);
        }
    }

    @Test
    void cliRunsAFunctionOnASampleEvent() throws Exception {
        write(dir.resolve("enrich.js"), """
                function transform(event, context) {
                  console.log('enriching ' + event.messageId + ' for ' + context.syncId);
                  event.properties.plan = context.settings.plan || 'none';
                  return event;
                }
                """);
        write(
                dir.resolve("event.json"),
                "{\"type\":\"track\",\"event\":\"Signed Up\",\"messageId\":\"m-1\",\"properties\":{}}");
        write(dir.resolve("sluice.yaml"), """
                sources:
                  - id: web
                    writeKey: wk_1
                destinations:
                  - id: warehouse
                    type: postgres
                syncs:
                  - id: signups
                    source: web
                    destination: warehouse
                    function: enrich.js
                    settings: {plan: pro}
                functions:
                  timeout: 2s
                """);

        Cli plain = sluice(
                "function",
                "test",
                dir.resolve("enrich.js").toString(),
                dir.resolve("event.json").toString());
        assertThat(plain.exit()).isZero();
        assertThat(plain.out())
                .contains("log: enriching m-1 for test")
                .contains("output (1 event):")
                .contains("\"plan\" : \"none\"");

        Cli asSync = sluice(
                "function",
                "test",
                "--config",
                dir.resolve("sluice.yaml").toString(),
                "--sync",
                "signups",
                "--json",
                dir.resolve("enrich.js").toString(),
                dir.resolve("event.json").toString());
        assertThat(asSync.exit()).isZero();
        JsonNode result = JSON.readTree(asSync.out());
        assertThat(result.path("output").get(0).path("properties").path("plan").asText())
                .isEqualTo("pro");
        assertThat(result.path("logs").get(0).asText()).isEqualTo("enriching m-1 for signups");
        assertThat(result.path("error").isNull()).isTrue();
    }

    @Test
    void cliReportsTheErrorWithItsLine() {
        write(dir.resolve("broken.js"), "function transform(event) {\n  return event.properties.x.y;\n}\n");
        write(dir.resolve("event.json"), "{\"type\":\"track\",\"messageId\":\"m-1\",\"properties\":{}}");
        Cli cli = sluice(
                "function",
                "test",
                dir.resolve("broken.js").toString(),
                dir.resolve("event.json").toString());
        assertThat(cli.exit()).isEqualTo(1);
        assertThat(cli.out()).startsWith("error: TypeError").contains("(line 2)");
    }

    @Test
    void adminRouteRunsAFunctionBehindTheToken() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AdminServer server = new AdminServer(
                new AdminSettings("127.0.0.1", 0, "s3cret"),
                registry,
                new KafkaHealth(io.sluice.kafka.KafkaClients.plain("127.0.0.1:1")),
                null,
                Clock.systemUTC());
        server.add(new FunctionAdminRoutes(Duration.ofMillis(500)));
        server.start();
        try (HttpClient http = HttpClient.newHttpClient()) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/admin/functions/test");
            String fanOut = JSON.createObjectNode()
                    .put("source", """
                            function transform(event, context) {
                              console.log('seen', event.event);
                              return [event, { type: 'track', event: 'Extra', properties: { from: context.settings.from } }];
                            }
                            """)
                    .<ObjectNode>set(
                            "event", JSON.readTree("{\"type\":\"track\",\"event\":\"Clicked\",\"messageId\":\"m-9\"}"))
                    .set("settings", JSON.readTree("{\"from\":\"admin\"}"))
                    .toString();

            HttpResponse<String> denied = http.send(
                    HttpRequest.newBuilder(uri)
                            .POST(HttpRequest.BodyPublishers.ofString(fanOut))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(denied.statusCode()).isEqualTo(401);

            JsonNode ok = post(http, uri, fanOut, 200);
            assertThat(ok.path("error").isNull()).isTrue();
            assertThat(ok.path("logs").get(0).asText()).isEqualTo("seen Clicked");
            assertThat(ok.path("output")).hasSize(2);
            assertThat(ok.path("output").get(1).path("messageId").asText()).isEqualTo("m-9-1");
            assertThat(ok.path("output").get(1).path("properties").path("from").asText())
                    .isEqualTo("admin");

            JsonNode failed = post(
                    http,
                    uri,
                    "{\"source\":\"function transform(e) {\\n  while (true) {}\\n}\",\"event\":{\"type\":\"track\"}}",
                    200);
            assertThat(failed.path("output").isNull()).isTrue();
            assertThat(failed.path("error").asText()).isEqualTo("timed out after 500 ms");

            JsonNode syntax = post(
                    http, uri, "{\"source\":\"function transform(e) {\\n\\n  return e +;\\n}\",\"event\":{}}", 200);
            assertThat(syntax.path("error").asText()).startsWith("SyntaxError").endsWith("(line 3)");

            JsonNode malformed =
                    post(http, uri, "{\"source\":\"function transform(e) { return e; }\",\"event\":[1]}", 400);
            assertThat(malformed.path("error").asText()).contains("expected");
        } finally {
            server.close();
        }
    }

    private static JsonNode post(HttpClient http, URI uri, String body, int status) throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(uri)
                        .header("Authorization", "Bearer s3cret")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        return JSON.readTree(response.body());
    }
}
