package io.sluice.function;

import static io.sluice.function.FunctionFixtures.JSON;
import static io.sluice.function.FunctionFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.cli.SluiceCli;
import io.sluice.support.EnrichmentServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice function test} with {@code fetch} (through picocli, in-process): live calls to the sync's allowed
 * services (a real HTTP service) under its limits, and answers from a {@code --mock} file; a bad mock file is one
 * message naming the file and the entry.
 */
class FunctionTestFetchCliTest {
    @TempDir
    Path dir;

    private record Cli(int exit, String out, String err) {}

    private static synchronized Cli sluice(String... args) {
        PrintStream realOut = System.out;
        PrintStream realErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = SluiceCli.run(args);
            return new Cli(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(realOut);
            System.setErr(realErr);
        }
    }

    @BeforeEach
    void files() {
        write(dir.resolve("enrich.js"), """
                async function transform(event, context) {
                  const r = await fetch(context.settings.base + '/users/' + encodeURIComponent(event.userId));
                  if (!r.ok) throw new Error('enrichment answered ' + r.status);
                  const user = await r.json();
                  console.log('tier of ' + event.userId + ' from ' + r.headers.get('x-source'));
                  event.properties.tier = user.tier;
                  return event;
                }
                """);
        write(
                dir.resolve("event.json"),
                "{\"type\":\"track\",\"event\":\"Viewed\",\"userId\":\"u1\",\"messageId\":\"m-1\",\"properties\":{}}");
    }

    private Path config(String base, String allowHosts, String timeout) {
        Path file = dir.resolve("sluice.yaml");
        write(file, """
                sources: [{id: web, writeKey: wk_1}]
                destinations: [{id: hooks, type: webhook, url: "http://127.0.0.1:9/hook"}]
                syncs:
                  - id: enriched
                    source: web
                    destination: hooks
                    function: enrich.js
                    settings: {base: "%s"}
                    fetch: {allowHosts: [%s], timeout: %s}
                  - {id: plain, source: web, destination: hooks, function: enrich.js, settings: {base: "%s"}}
                functions: {timeout: 30s}
                """.formatted(base, allowHosts, timeout, base));
        return file;
    }

    /** Runs the trial; without --config, with a generous functions.timeout (a cold sandbox on a loaded machine). */
    private Cli test(String... options) {
        boolean configured = List.of(options).contains("--config");
        if (!configured)
            write(dir.resolve("plain.yaml"), "sources: [{id: web, writeKey: wk_1}]\nfunctions: {timeout: 30s}\n");
        List<String> args = new ArrayList<>(List.of("function", "test"));
        if (!configured)
            args.addAll(List.of("--config", dir.resolve("plain.yaml").toString()));
        args.addAll(List.of(options));
        args.add(dir.resolve("enrich.js").toString());
        args.add(dir.resolve("event.json").toString());
        return sluice(args.toArray(String[]::new));
    }

    @Test
    void liveCallsGoToTheSyncsAllowedServiceUnderItsLimits() throws Exception {
        try (EnrichmentServer service = new EnrichmentServer()) {
            Path config = config(service.url(""), "\"127.0.0.1:" + service.port() + "\"", "2s");

            Cli ok = test("--config", config.toString(), "--sync", "enriched", "--json");
            assertThat(ok.exit()).as(ok.out() + ok.err()).isZero();
            JsonNode result = JSON.readTree(ok.out());
            assertThat(result.path("output")
                            .get(0)
                            .path("properties")
                            .path("tier")
                            .asText())
                    .isEqualTo("tier-u1");
            assertThat(service.calls("/users/u1")).isEqualTo(1);

            // the sync's fetch.timeout (2 s) applies: a slow service is a failing dependency, not the event's
            service.slowness(Duration.ofSeconds(6));
            service.mode(EnrichmentServer.Mode.SLOW);
            Cli slow = test("--config", config.toString(), "--sync", "enriched");
            assertThat(slow.exit()).isEqualTo(1);
            assertThat(slow.out())
                    .contains("http://127.0.0.1:" + service.port() + "/users/u1")
                    .containsIgnoringCase("timeout")
                    .contains("in the pipeline the batch would wait and be retried");

            // a sync without fetch settings may not call out at all
            service.mode(EnrichmentServer.Mode.HEALTHY);
            int before = service.calls();
            Cli plain = test("--config", config.toString(), "--sync", "plain");
            assertThat(plain.exit()).isEqualTo(1);
            assertThat(plain.out()).contains("fetch is not enabled for this sync");
            assertThat(service.calls()).isEqualTo(before);
        }
    }

    @Test
    void liveCallsOutsideTheAllowlistAreRefusedWithoutARequest() throws Exception {
        try (EnrichmentServer service = new EnrichmentServer();
                EnrichmentServer allowed = new EnrichmentServer()) {
            Path config = config(service.url(""), "\"127.0.0.1:" + allowed.port() + "\"", "2s");
            Cli cli = test("--config", config.toString(), "--sync", "enriched");
            assertThat(cli.exit()).isEqualTo(1);
            assertThat(cli.out())
                    .contains("http://127.0.0.1:" + service.port() + "/users/u1 is not allowed")
                    .contains("fetch.allowHosts of sync enriched");
            assertThat(service.calls()).isZero();
        }
    }

    @Test
    void aMockFileAnswersByExactUrlPrefixOrPatternAndMethod() throws Exception {
        write(dir.resolve("enrich.js"), """
                async function transform(event, context) {
                  const user = await (await fetch('https://crm.example.com/users/' + event.userId)).json();
                  const geo = await fetch('https://geo.example.net/v2/lookup?ip=10.0.0.1');
                  const flag = await fetch('https://flags.example.org/flags/42', { method: 'POST', body: '{}' });
                  event.properties.tier = user.tier;
                  event.properties.country = (await geo.json()).country;
                  event.properties.flag = flag.status + ' ' + (await flag.text());
                  event.properties.source = geo.headers.get('X-Source');
                  return event;
                }
                """);
        write(dir.resolve("mocks.yaml"), """
                responses:
                  - url: https://crm.example.com/users/u1
                    body: {tier: gold}
                  - urlPrefix: https://geo.example.net/v2/
                    headers: {X-Source: mock}
                    body: {country: NL}
                    delay: 20ms
                  - method: GET
                    urlPattern: 'https://flags\\.example\\.org/flags/\\d+'
                    body: never, the call is a POST
                  - method: post
                    urlPattern: 'https://flags\\.example\\.org/flags/\\d+'
                    status: 201
                    body: created
                """);
        Cli cli = test("--mock", dir.resolve("mocks.yaml").toString(), "--json");
        assertThat(cli.exit()).as(cli.out() + cli.err()).isZero();
        JsonNode properties = JSON.readTree(cli.out()).path("output").get(0).path("properties");
        assertThat(properties.path("tier").asText()).isEqualTo("gold");
        assertThat(properties.path("country").asText()).isEqualTo("NL");
        assertThat(properties.path("flag").asText()).isEqualTo("201 created");
        assertThat(properties.path("source").asText()).isEqualTo("mock");
    }

    @Test
    void anUnmatchedCallFailsNamingItsUrl() {
        write(dir.resolve("enrich.js"), """
                async function transform(event, context) {
                  const r = await fetch('https://crm.example.com/users/' + event.userId + '?fields=tier');
                  event.properties.tier = (await r.json()).tier;
                  return event;
                }
                """);
        write(dir.resolve("mocks.json"), """
                [{"url": "https://crm.example.com/users/u2?fields=tier", "body": {}},
                 {"method": "POST", "urlPrefix": "https://crm.example.com/", "body": {}}]
                """);
        Cli cli = test("--mock", dir.resolve("mocks.json").toString());
        assertThat(cli.exit()).isEqualTo(1);
        assertThat(cli.out())
                .startsWith("error: ")
                .contains("no mock response in " + dir.resolve("mocks.json")
                        + " matches GET https://crm.example.com/users/u1?fields=tier")
                .doesNotContain("would wait");
    }

    @Test
    void mockedFailuresShowWhatThePipelineWouldDo() {
        write(dir.resolve("enrich.js"), """
                async function transform(event, context) {
                  const r = await fetch('https://crm.example.com/users/' + event.userId);
                  if (!r.ok) throw new Error('CRM answered ' + r.status + ', retry after ' + r.headers.get('retry-after'));
                  return event;
                }
                """);
        write(dir.resolve("throttled.yaml"), """
                - {urlPrefix: "https://crm.example.com/", status: 429, headers: {Retry-After: "3"}}
                """);
        Cli throttled = test("--mock", dir.resolve("throttled.yaml").toString());
        assertThat(throttled.exit()).isEqualTo(1);
        assertThat(throttled.out())
                .contains("https://crm.example.com/users/u1 answered 429")
                .contains("in the pipeline the batch would wait and be retried");

        write(dir.resolve("down.yaml"), "- {urlPrefix: \"https://crm.example.com/\", fail: unreachable}\n");
        Cli down = test("--mock", dir.resolve("down.yaml").toString());
        assertThat(down.exit()).isEqualTo(1);
        assertThat(down.out()).contains("unreachable (mock entry 1)").contains("would wait");
    }

    @Test
    void aMockedDelayPastTheSyncsTimeoutIsATimeoutAndItsAllowlistApplies() {
        Path config = config("https://crm.example.com", "\"crm.example.com\"", "100ms");
        write(dir.resolve("slow.yaml"), """
                - {urlPrefix: "https://crm.example.com/users/", body: {tier: gold}, delay: 2s}
                """);
        Cli slow = test(
                "--config",
                config.toString(),
                "--sync",
                "enriched",
                "--mock",
                dir.resolve("slow.yaml").toString());
        assertThat(slow.exit()).isEqualTo(1);
        assertThat(slow.out())
                .contains("timed out (mock entry 1 answers after 2000 ms; fetch.timeout is 100 ms)")
                .contains("would wait");

        Path elsewhere = config("https://other.example.com", "\"crm.example.com\"", "2s");
        write(dir.resolve("other.yaml"), "- {urlPrefix: \"https://other.example.com/\", body: {tier: gold}}\n");
        Cli refused = test(
                "--config",
                elsewhere.toString(),
                "--sync",
                "enriched",
                "--mock",
                dir.resolve("other.yaml").toString());
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.out())
                .contains("https://other.example.com/users/u1 is not allowed")
                .contains("fetch.allowHosts");
    }

    @Test
    void aBadMockFileIsOneMessageNamingTheFileAndTheEntry() {
        String[][] cases = {
            {"- {url: a}\n- {urlPrefix: b, status: 999}\n", "entry 2: status must be an HTTP status 100-599, got 999"},
            {
                "- {url: a, urlPrefix: b}\n",
                "entry 1: needs exactly one of url, urlPrefix or urlPattern, got url and urlPrefix"
            },
            {"- {body: x}\n", "entry 1: needs exactly one of url, urlPrefix or urlPattern"},
            {"- {url: a}\n- {url: b}\n- {url: c, bdy: x}\n", "entry 3: unknown key 'bdy'"},
            {"- {urlPattern: 'https://x/(unclosed'}\n", "entry 1: urlPattern is not a regular expression"},
            {"- {url: a, delay: soon}\n", "entry 1: delay must be a duration such as 150ms or 3s, got \"soon\""},
            {"- {url: a, headers: [x]}\n", "entry 1: headers must be an object"},
            {"- {url: a, fail: sometimes}\n", "entry 1: fail must be unreachable"},
            {"- {url: a, fail: unreachable, status: 200}\n", "entry 1: fail is a call without an answer"},
            {"- just a string\n", "entry 1: must be an object"},
            {"{}\n", "must hold a non-empty list of mock responses"},
            {"- {url: a\n", "is not valid JSON or YAML"},
        };
        Path file = dir.resolve("mocks.yaml");
        for (String[] c : cases) {
            write(file, c[0]);
            Cli cli = test("--mock", file.toString());
            assertThat(cli.exit()).as(c[0]).isEqualTo(2);
            assertThat(cli.out()).as(c[0]).isEmpty();
            assertThat(cli.err().strip().lines()).as(c[0]).hasSize(1);
            assertThat(cli.err()).as(c[0]).startsWith(file.toString()).contains(c[1]);
        }
        Cli missing = test("--mock", dir.resolve("absent.yaml").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains(dir.resolve("absent.yaml").toString());
    }
}
