package io.sluice.it.hostile;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ConfigLoader;
import io.sluice.it.hostile.HostileEvents.Generated;
import io.sluice.runtime.Sluice;
import io.sluice.support.CommittedMirror;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22's generated hostile-data suite: seeded valid-but-odd Segment events ({@link HostileEvents}) sent through the
 * real pipeline (collector over HTTP → Kafka → planner → worker) to a real PostgreSQL warehouse, a webhook receiver
 * that dedupes nothing and a Kafka destination read by a read_committed consumer. Every accepted event must have one
 * visible fate at each destination: delivered once, byte for byte as accepted (minus the collector's documented
 * enrichment), or a dead letter with a reason; and an ordinary event of the same user sent afterwards must arrive
 * within seconds. Every failing event is reported with its class and the seed ({@code -Dhostile.seed=N} repeats a run).
 *
 * <p>Not in the default run yet ({@code -Dhostile.enabled=true} runs it): it fails until the fixes of issue 22's other
 * classes (warehouse names, byte-exact dead letters, header encoding, poison isolation) are merged.
 */
class HostileDataPipelineTest {
    static final int EVENTS = 160;
    static final Duration SETTLE = Duration.ofSeconds(75);
    static final Duration FOLLOW_UP = Duration.ofSeconds(30);
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String TOKEN = "hostile-admin-token";

    @TempDir
    Path dir;

    @Test
    void everyAcceptedHostileEventHasExactlyOneVisibleFateAndNeverBlocksItsUser() throws Exception {
        long seed = Long.getLong("hostile.seed", new java.util.Random().nextLong());
        String run = UUID.randomUUID().toString().substring(0, 8);
        String warehouseUrl = TestPostgres.createDatabase("hostile_wh");
        String mirrorTopic = TestEvents.createTopic("hostile-mirror", 2);
        Path config = dir.resolve("sluice.yaml");
        try (BodyReceiver hook = new BodyReceiver()) {
            Files.writeString(config, """
                    kafka: {bootstrapServers: "%s", eventsTopic: hostile-%s, partitions: 3, controlTopic: hostile-control-%s}
                    postgres: {url: "%s", user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0, token: %s}
                    sources: [{id: web, writeKey: wk_hostile}]
                    destinations:
                      - {id: warehouse, type: postgres, url: "%s", user: sluice}
                      - {id: hook, type: webhook, url: "%s", timeout: 2s, retry: {base: 200ms, cap: 1s, maxAttempts: 3, maxAge: 20s}}
                      - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s, markerTopic: hostile-markers-%s,
                         retry: {base: 200ms, cap: 1s, maxAttempts: 3, maxAge: 20s}}
                    syncs:
                      - {id: h-wh-%s, source: web, destination: warehouse, batch: {maxEvents: 50, maxAge: 200ms}}
                      - {id: h-hook-%s, source: web, destination: hook, batch: {maxEvents: 50, maxAge: 200ms}}
                      - {id: h-mirror-%s, source: web, destination: mirror, batch: {maxEvents: 50, maxAge: 200ms}}
                    planner: {groupId: hostile-%s}
                    worker: {concurrency: 2, pollInterval: 50ms, retryBase: 200ms, retryCap: 1s, maxAttempts: 3, maxRetryAge: 20s}
                    """.formatted(
                            TestKafka.bootstrapServers(),
                            run,
                            run,
                            TestPostgres.createDatabase("hostile_q"),
                            TOKEN,
                            warehouseUrl,
                            hook.url(),
                            TestKafka.bootstrapServers(),
                            mirrorTopic,
                            run,
                            run,
                            run,
                            run,
                            run));
            Map<String, String> syncs =
                    Map.of("warehouse", "h-wh-" + run, "webhook", "h-hook-" + run, "kafka", "h-mirror-" + run);
            List<Generated> events = new HostileEvents(seed, run).generate(EVENTS);
            try (Sluice sluice = new Sluice(
                            new ConfigLoader(Map.of()).load(config),
                            EnumSet.allOf(Sluice.Role.class),
                            false,
                            Clock.systemUTC());
                    CommittedMirror mirror = CommittedMirror.start(TestKafka.bootstrapServers(), mirrorTopic)) {
                sluice.start();
                EventFates fates = new EventFates(seed, syncs, hook, mirror, warehouseUrl, sluice.adminUrl(), TOKEN);
                for (Generated g : events) {
                    var response = send(sluice, g.event());
                    if (response.statusCode() == 200) fates.accepted(g);
                    else fates.refused(g, response.statusCode() + " " + response.body());
                }
                // an ordinary event of every user that got hostile ones, sent right after them
                Map<String, Generated> followUps = new LinkedHashMap<>();
                for (String user :
                        new LinkedHashSet<>(events.stream().map(Generated::user).toList())) {
                    ObjectNode ordinary = MAPPER.createObjectNode()
                            .put("type", "track")
                            .put("event", "Ordinary Follow Up")
                            .put("messageId", "follow-" + run + "-" + followUps.size());
                    if (user.startsWith("anon-")) ordinary.put("anonymousId", user);
                    else ordinary.put("userId", user);
                    var response = send(sluice, ordinary);
                    assertThat(response.statusCode())
                            .as("seed %d: follow-up accepted", seed)
                            .isEqualTo(200);
                    followUps.put(user, new Generated(ordinary, user, null, "follow-up"));
                }
                List<String> blocked = fates.awaitFollowUps(followUps, FOLLOW_UP);
                List<String> problems = new ArrayList<>(blocked);
                problems.addAll(fates.awaitSettled(SETTLE));
                System.out.println(fates.summary());
                assertThat(problems)
                        .as(
                                "seed %d (-Dhostile.seed=%d repeats it): %d accepted, %d refused by the collector;"
                                        + " every problem by class:%n%s",
                                seed, seed, fates.acceptedCount(), fates.refusedCount(), String.join("\n", problems))
                        .isEmpty();
            }
        }
    }

    private static java.net.http.HttpResponse<String> send(Sluice sluice, ObjectNode event) {
        try {
            String body = "{\"batch\":[" + MAPPER.writeValueAsString(event) + "]}";
            return post(sluice.collectorUrl() + "/v1/batch", body, "Authorization", basic("wk_hostile"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
