package io.sluice.runtime;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ConfigLoader;
import io.sluice.support.Cli;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sync's JavaScript function in the running pipeline: it renames and enriches properties (seen in the warehouse),
 * an event it throws on becomes a dead letter with the script's line, and after the file is fixed (hot reload, no
 * restart) `sluice dlq replay` sends that event through the new version.
 */
class FunctionPipelineTest {
    @TempDir
    Path dir;

    @Test
    void transformedEventsReachTheWarehouseAndFailuresReplayThroughTheFixedFunction() throws Exception {
        Path function = dir.resolve("functions/enrich.js");
        Files.createDirectories(function.getParent());
        Files.writeString(function, """
                function transform(event, context) {
                  if (event.properties.explode) throw new Error("cannot handle " + event.messageId);
                  event.properties.total_cents = Math.round(event.properties.revenue * 100);
                  event.properties.plan_name = event.properties.plan;
                  delete event.properties.plan;
                  event.properties.region = context.settings.region;
                  return event;
                }
                """);
        String warehouseUrl = TestPostgres.createDatabase("fn_wh");
        Path config = dir.resolve("sluice.yaml");
        String id = UUID.randomUUID().toString();
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: fn-%s, partitions: 1, controlTopic: control-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_fn}]
                destinations: [{id: warehouse, type: postgres, url: "%s", user: sluice}]
                syncs:
                  - id: web-to-warehouse
                    source: web
                    destination: warehouse
                    function: functions/enrich.js
                    settings: {region: eu-west}
                    batch: {maxEvents: 10, maxAge: 100ms}
                functions: {reloadInterval: 200ms}
                planner: {groupId: fn-%s}
                worker: {pollInterval: 50ms}
                """.formatted(
                        TestKafka.bootstrapServers(), id, id, TestPostgres.createDatabase("fn_q"), warehouseUrl, id));
        try (Sluice sluice = new Sluice(
                        new ConfigLoader(Map.of()).load(config),
                        EnumSet.allOf(Sluice.Role.class),
                        false,
                        Clock.systemUTC());
                Connection warehouse = DriverManager.getConnection(warehouseUrl, "sluice", "")) {
            sluice.start();
            var response = post(sluice.collectorUrl() + "/v1/batch", """
                    {"batch":[
                      {"type":"track","event":"Order Completed","userId":"u1","messageId":"ok-1","properties":{"revenue":12.5,"plan":"pro"}},
                      {"type":"track","event":"Order Completed","userId":"u2","messageId":"boom-1","properties":{"revenue":3,"plan":"free","explode":true}},
                      {"type":"track","event":"Order Completed","userId":"u3","messageId":"ok-2","properties":{"revenue":1,"plan":"free"}}
                    ]}""", "Authorization", basic("wk_fn"));
            assertThat(response.statusCode()).isEqualTo(200);

            await().atMost(Duration.ofSeconds(30)).until(() -> count(warehouse) == 2);
            assertThat(
                            text(
                                    warehouse,
                                    "SELECT total_cents || '/' || plan_name || '/' || region FROM web.order_completed WHERE id = 'ok-1'"))
                    .isEqualTo("1250/pro/eu-west");
            assertThat(text(
                            warehouse,
                            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'web' "
                                    + "AND table_name = 'order_completed' AND column_name = 'plan'"))
                    .as("renamed, not copied")
                    .isEqualTo("0");
            String dead = Cli.run("dlq", "list", "--config", config.toString());
            assertThat(dead).contains("boom-1", "cannot handle boom-1", "line 2");

            Files.writeString(
                    function,
                    Files.readString(function).replace("if (event.properties.explode) throw", "if (false) throw"));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> sluice.registry()
                                    .counter(
                                            "sluice.function.reloads", "sync", "web-to-warehouse", "outcome", "applied")
                                    .count()
                            == 1);
            assertThat(Cli.run("dlq", "replay", "--config", config.toString())).contains("Replayed 1");
            await().atMost(Duration.ofSeconds(30)).until(() -> count(warehouse) == 3);
            assertThat(text(
                            warehouse,
                            "SELECT total_cents || '/' || plan_name FROM web.order_completed WHERE id = 'boom-1'"))
                    .isEqualTo("300/free");
        }
    }

    private static long count(Connection warehouse) {
        try {
            return Long.parseLong(text(warehouse, "SELECT count(*) FROM web.order_completed"));
        } catch (Exception e) {
            return -1;
        }
    }

    private static String text(Connection c, String sql) throws Exception {
        try (var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
