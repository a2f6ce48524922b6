package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.support.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image the build wrote (target/sluice-image.tar), loaded into podman, runs the chart's roles — one collector,
 * one planner, two workers — as containers shaped by the rendered Deployments (read-only root, non-root user, no
 * capabilities, memory limits) against Kafka and PostgreSQL on the host; the official Segment SDK's events reach the
 * warehouse through the sync's JavaScript function, and each JVM sized its heap from its container's memory limit.
 */
class ContainerImageIT {
    private static final Pattern HEAP_MAX =
            Pattern.compile("(?m)^jvm_memory_max_bytes\\{area=\"heap\",id=\"[^\"]+\"} ([0-9.E+]+)$");
    private static String image;

    @BeforeAll
    static void loadImage() {
        assertThat(Podman.IMAGE_TAR)
                .as("./mvnw verify builds the image in pre-integration-test")
                .exists();
        image = Podman.loadImage();
    }

    @Test
    void collectorPlannerAndTwoWorkersInContainersDeliverSdkEventsToTheWarehouse(@TempDir Path scratch)
            throws Exception {
        String warehouseUrl = TestPostgres.createDatabase("deploy_warehouse");
        try (ContainerDeployment deployment = new ContainerDeployment(image, scratch, """
                  destinations: [{id: warehouse, type: postgres, url: "%s", user: sluice}]
                  syncs:
                    - id: web-to-warehouse
                      source: web
                      destination: warehouse
                      batch: {maxEvents: 50, maxAge: 200ms}
                      # GraalJS on the jlinked runtime, read-only root filesystem
                      function: "function transform(event) { event.properties.channel = 'container'; return event; }"
                """.formatted(warehouseUrl))) {
            // The collector first: it creates the events topic the others use. One at a time, like a rollout
            // (starting four JVMs at once on a busy 2-core machine starves GraalJS's start-up compile deadline).
            for (String role : List.of("collector", "planner", "worker", "worker")) {
                ContainerDeployment.awaitReady(deployment.start(role));
            }

            for (RoleContainer container : deployment.containers()) {
                assertThat(container.inspect("{{.Config.User}}")).isEqualTo("65532:65532");
                assertThat(container.inspect("{{.HostConfig.ReadonlyRootfs}}")).isEqualTo("true");
                assertThat(container.status("/health")).isEqualTo(200);
                // -XX:MaxRAMPercentage=70 of the container's limit, not of the machine's memory
                assertThat(heapMax(container.get("/metrics")))
                        .isBetween(
                                (long) (container.memoryLimitBytes * 0.5), (long) (container.memoryLimitBytes * 0.72));
            }

            SdkLoad.Result sent;
            try (SdkLoad load = new SdkLoad(deployment.collectorPort(), 40)) {
                load.send(400);
                sent = load.finish();
            }
            assertThat(sent.failures()).isEmpty();
            try (Connection warehouse = DriverManager.getConnection(warehouseUrl, TestPostgres.USER, "")) {
                await().atMost(Duration.ofMinutes(3))
                        .pollInterval(Duration.ofSeconds(1))
                        .ignoreExceptions()
                        .until(() ->
                                ids(warehouse).size() >= sent.acknowledged().size());
                assertThat(ids(warehouse)).isEqualTo(sent.acknowledged());
                try (ResultSet rows = warehouse
                        .createStatement()
                        .executeQuery("SELECT count(*) FROM web.order_completed WHERE channel = 'container'")) {
                    rows.next();
                    assertThat(rows.getInt(1))
                            .as("events the function changed")
                            .isEqualTo(sent.acknowledged().size());
                }
            }
            for (RoleContainer container : deployment.containers())
                assertThat(container.running()).isTrue();
        }
    }

    private static Set<String> ids(Connection warehouse) throws Exception {
        Set<String> ids = new HashSet<>();
        try (ResultSet rows = warehouse.createStatement().executeQuery("SELECT id FROM web.tracks")) {
            while (rows.next()) ids.add(rows.getString(1));
        }
        return ids;
    }

    private static long heapMax(String metrics) {
        Matcher matcher = HEAP_MAX.matcher(metrics);
        double sum = 0;
        while (matcher.find()) {
            double value = Double.parseDouble(matcher.group(1));
            if (value > 0) sum += value;
        }
        return (long) sum;
    }
}
