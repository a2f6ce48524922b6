package io.sluice.function;

import static io.sluice.function.FunctionFixtures.config;
import static io.sluice.function.FunctionFixtures.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.support.EnrichmentServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fetch} in functions against a real HTTP service on loopback (allowed by its literal address and port):
 * async enrichment in input order, the sync's concurrency and cache, what fails one event (404 thrown by the script,
 * hosts, addresses, redirects, methods and sizes outside the limits) and what gives the whole batch up (500s,
 * dropped connections, refused connections, slowness past the batch's time).
 */
class FetchFunctionTest {
    private static final String ENRICH = """
            async function transform(event, context) {
              const r = await fetch(context.settings.base + '/users/' + event.userId,
                                    { headers: { Authorization: 'Bearer ' + context.settings.apiKey } });
              if (r.status === 404) throw new Error('no user ' + event.userId);
              const user = await r.json();
              event.properties.tier = user.tier;
              return event;
            }
            """;

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final EnrichmentServer service = new EnrichmentServer();
    private final List<Functions> started = new ArrayList<>();

    @AfterEach
    void close() {
        started.forEach(Functions::close);
        service.close();
    }

    private Functions functions(String source, String fetch) {
        FunctionFixtures.write(dir.resolve("fn.js"), source);
        Functions functions = new Functions(
                config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                    function: fn.js
                    settings: {base: "%s", apiKey: "k-123"}
                    fetch: %s
                """.formatted(service.url(""), fetch), "  timeout: 2s"), registry, Clock.systemUTC());
        started.add(functions);
        functions.start();
        return functions;
    }

    private String allowed() {
        return "127.0.0.1:" + service.port();
    }

    private static List<ObjectNode> users(int n) {
        List<ObjectNode> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ObjectNode e = event("m-" + i);
            e.put("userId", "u" + i);
            events.add(e);
        }
        return events;
    }

    @Test
    void enrichesEveryEventInInputOrderWithinTheSyncsConcurrency() {
        Functions functions =
                functions(ENRICH, "{allowHosts: [\"%s\"], concurrency: 3, timeout: 10s}".formatted(allowed()));
        service.mode(EnrichmentServer.Mode.SLOW);
        service.slowness(Duration.ofMillis(100));
        FunctionResult result = functions.apply("a", users(30));
        assertThat(result.failures()).isEmpty();
        assertThat(result.output())
                .extracting(e -> e.path("messageId").asText())
                .containsExactlyElementsOf(users(30).stream()
                        .map(e -> e.path("messageId").asText())
                        .toList());
        assertThat(result.output())
                .allSatisfy(e -> assertThat(e.path("properties").path("tier").asText())
                        .isEqualTo("tier-" + e.path("userId").asText()));
        assertThat(service.calls()).isEqualTo(30);
        assertThat(service.maxInFlight()).as("calls in flight at once").isBetween(2, 3);
        assertThat(service.lastAuthorization()).isEqualTo("Bearer k-123");
        assertThat(registry.get("sluice.function.fetch.calls")
                        .tag("outcome", "ok")
                        .counter()
                        .count())
                .isEqualTo(30);
    }

    @Test
    void aMissingRecordFailsOnlyItsEvent() {
        Functions functions = functions(ENRICH, "{allowHosts: [\"%s\"]}".formatted(allowed()));
        service.missing("u2");
        FunctionResult result = functions.apply("a", users(4));
        assertThat(result.output()).extracting(e -> e.path("userId").asText()).containsExactly("u0", "u1", "u3");
        assertThat(result.failures()).singleElement().satisfies(f -> {
            assertThat(f.event().path("userId").asText()).isEqualTo("u2");
            assertThat(f.error()).isEqualTo("Error: no user u2 (line 4)");
        });
    }

    @Test
    void aFailingServiceGivesTheWholeBatchUpWithItsClass() {
        Functions functions = functions(ENRICH, "{allowHosts: [\"%s\"]}".formatted(allowed()));
        service.mode(EnrichmentServer.Mode.FAILING); // 500s and connections dropped mid-body
        DependencyFailure failing = catchThrowableOfType(DependencyFailure.class, () -> functions.apply("a", users(6)));
        assertThat(Failures.classOf(failing)).isIn(FailureClass.RESPONSIVE_ERROR, FailureClass.UNRESPONSIVE);
        assertThat(Failures.isRetriable(failing)).isTrue();
        assertThat(failing.getMessage()).contains("a service the function of sync a calls is failing");
        assertThat(registry.get("sluice.function.dependency.waits").counter().count())
                .isEqualTo(1);
        assertThat(functions.state("a").state()).isEqualTo("waiting");

        service.mode(EnrichmentServer.Mode.HEALTHY);
        service.down(); // connection refused
        DependencyFailure down = catchThrowableOfType(DependencyFailure.class, () -> functions.apply("a", users(3)));
        // refused on a new connection; a keep-alive connection pooled before the stop may first see the close (EOF)
        assertThat(Failures.classOf(down)).isIn(FailureClass.UNREACHABLE, FailureClass.UNRESPONSIVE);
        assertThat(Failures.isRetriable(down)).isTrue();

        service.up();
        assertThat(functions.apply("a", users(3)).output()).hasSize(3);
        assertThat(functions.state("a").state()).isEqualTo("service failing"); // failures within the last minute
    }

    @Test
    void callsOutlastingTheBatchGiveItUpAsUnresponsive() {
        Functions functions =
                functions(ENRICH, "{allowHosts: [\"%s\"], timeout: 1s, batchTimeout: 1s}".formatted(allowed()));
        service.mode(EnrichmentServer.Mode.SLOW);
        service.slowness(Duration.ofSeconds(3));
        DependencyFailure slow = catchThrowableOfType(DependencyFailure.class, () -> functions.apply("a", users(2)));
        assertThat(Failures.classOf(slow)).isEqualTo(FailureClass.UNRESPONSIVE);
    }

    @Test
    void aCachedLookupCallsTheServiceOncePerTtl() {
        Functions functions = functions(ENRICH, "{allowHosts: [\"%s\"], cache: {ttl: 1m}}".formatted(allowed()));
        List<ObjectNode> sameUser = users(1);
        for (int i = 1; i < 5; i++) {
            ObjectNode e = event("again-" + i);
            e.put("userId", "u0");
            sameUser.add(e);
        }
        assertThat(functions.apply("a", sameUser).output()).hasSize(5);
        assertThat(functions.apply("a", users(1)).output()).hasSize(1);
        assertThat(service.calls("/users/u0")).isEqualTo(1);
        assertThat(registry.get("sluice.function.fetch.cache")
                        .tag("result", "hit")
                        .counter()
                        .count())
                .isEqualTo(5);
    }

    @Test
    void whatTheLimitsRefuseFailsTheEventAndReachesNothing() throws Exception {
        try (ServerSocket other = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String outside = "http://127.0.0.1:" + other.getLocalPort();
            Functions functions = functions(
                    """
                    async function transform(event, context) {
                      const r = await fetch(event.properties.url, { method: event.properties.method || 'GET' });
                      event.properties.status = r.status;
                      return event;
                    }
                    """,
                    "{allowHosts: [\"%s\", \"localhost:%d\"], maxResponseSize: 1KB}"
                            .formatted(allowed(), service.port()));
            String[][] cases = {
                {outside + "/users/u1", "GET", "is not allowed: its host is not in fetch.allowHosts"},
                {"http://localhost:" + service.port() + "/users/u1", "GET", "resolves to 127.0.0.1, a loopback"},
                {service.url("/redirect?to=" + outside + "/users/u1"), "GET", "whose host is not in fetch.allowHosts"},
                {service.url("/big"), "GET", "larger than fetch.maxResponseSize"},
                {service.url("/users/u1"), "POST", "POST is not in fetch.methods"},
                {"file:///etc/passwd", "GET", "is not allowed"},
            };
            List<ObjectNode> events = new ArrayList<>();
            for (String[] c : cases) {
                ObjectNode e = event("case-" + events.size());
                e.with("properties").put("url", c[0]).put("method", c[1]);
                events.add(e);
            }
            ObjectNode redirected = event("redirect-inside");
            redirected.with("properties").put("url", service.url("/redirect?to=" + service.url("/users/u9")));
            events.add(redirected);
            FunctionResult result = functions.apply("a", events);
            assertThat(result.failures()).hasSize(cases.length);
            for (int i = 0; i < cases.length; i++) {
                assertThat(result.failures().get(i).error())
                        .as(cases[i][0])
                        .startsWith("TypeError: fetch failed:")
                        .contains(cases[i][2]);
            }
            assertThat(result.output())
                    .singleElement()
                    .satisfies(
                            e -> assertThat(e.path("properties").path("status").asInt())
                                    .isEqualTo(200));
            other.setSoTimeout(200);
            boolean reached;
            try (var ignored = other.accept()) {
                reached = true;
            } catch (SocketTimeoutException e) {
                reached = false;
            }
            assertThat(reached)
                    .as("a connection reached the host outside the allowlist")
                    .isFalse();
            assertThat(service.calls("/users/u1"))
                    .as("loopback by name, refused before connecting")
                    .isZero();
        }
    }

    @Test
    void aSyncWithoutFetchSettingsCannotFetch() {
        FunctionFixtures.write(dir.resolve("fn.js"), ENRICH);
        Functions functions = new Functions(
                config(dir, """
                  - id: a
                    source: web
                    destination: warehouse
                    function: fn.js
                    settings: {base: "%s", apiKey: "k"}
                """.formatted(service.url("")), "  timeout: 2s"), registry, Clock.systemUTC());
        started.add(functions);
        functions.start();
        FunctionResult result = functions.apply("a", users(1));
        assertThat(result.failures())
                .singleElement()
                .satisfies(f -> assertThat(f.error()).startsWith("TypeError: fetch is not enabled for this sync"));
        assertThat(service.calls()).isZero();
    }
}
