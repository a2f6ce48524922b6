package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.support.TcpProxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a Kubernetes rolling update and an autoscaler do to the chart's pods, done by hand with podman: under SDK
 * load, the collector and each worker are replaced one at a time the way a Deployment with {@code maxSurge: 1,
 * maxUnavailable: 0} does it (the new container ready first, traffic moved, then SIGTERM with the chart's grace
 * period); then workers scale 1 → 4 → 1 while the webhook holds a backlog. Zero acknowledged events lost, the
 * SDK sees no error after its retries, each user's events arrive in order (first deliveries), and the redeliveries
 * the webhook saw (it dedupes nothing) are counted and reported.
 */
class RollingUpgradeIT {
    private static String image;

    @BeforeAll
    static void loadImage() {
        assertThat(Podman.IMAGE_TAR).exists();
        image = Podman.loadImage();
    }

    @Test
    void rollingReplacementAndWorkerScalingUnderLoadLoseNothingAndKeepPerUserOrder(@TempDir Path scratch)
            throws Exception {
        try (OrderRecordingReceiver receiver = new OrderRecordingReceiver();
                ContainerDeployment deployment =
                        new ContainerDeployment(image, scratch, """
                          destinations: [{id: hook, type: webhook, url: "%s", mode: event, timeout: 5m}]
                          syncs: [{id: web-to-hook, source: web, destination: hook, batch: {maxEvents: 50, maxAge: 200ms}}]
                        """.formatted(receiver.url()))) {
            // The collector behind a TCP proxy playing the Service: traffic moves to a new pod once it is ready.
            RoleContainer collector = deployment.start("collector", ContainerDeployment.freePort());
            ContainerDeployment.awaitReady(collector);
            List<RoleContainer> workers = new ArrayList<>();
            ContainerDeployment.awaitReady(deployment.start("planner"));
            for (int i = 0; i < 2; i++) {
                workers.add(deployment.start("worker"));
                ContainerDeployment.awaitReady(workers.getLast());
            }

            SdkLoad.Result result;
            try (TcpProxy service = new TcpProxy(collectorPort(collector));
                    SdkLoad load = new SdkLoad(service.port(), 50)) {
                ScheduledExecutorService steady = Executors.newSingleThreadScheduledExecutor();
                steady.scheduleAtFixedRate(() -> load.send(20), 0, 100, TimeUnit.MILLISECONDS); // 200 events/s

                // Rolling update of the collector: surge one, move the Service, SIGTERM the old one.
                RoleContainer next = deployment.start("collector", ContainerDeployment.freePort());
                ContainerDeployment.awaitReady(next);
                // New connections go to the new collector; the SDK's kept-alive one stays on the old until its
                // SIGTERM closes it (like a Service's endpoints), and the SDK retries what that cut.
                service.switchTo(collectorPort(next));
                collector.stop();
                await().atMost(Duration.ofSeconds(30)).until(() -> service.connectionsTo(collectorPort(next)) > 0);

                // Rolling update of the workers, one at a time.
                for (int i = 0; i < workers.size(); i++) {
                    RoleContainer replacement = deployment.start("worker");
                    ContainerDeployment.awaitReady(replacement);
                    workers.get(i).stop();
                    workers.set(i, replacement);
                }
                int beforeScaling = receiver.deliveries().size();
                assertThat(beforeScaling)
                        .as("delivered during the rolling update")
                        .isPositive();

                // Scale workers 1 -> 4 -> 1 under a backlog: the webhook holds its requests while 2,000 events
                // arrive and three workers start, then answers slowly.
                workers.removeLast().stop();
                steady.shutdown();
                assertThat(steady.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
                receiver.hold();
                load.send(2_000);
                List<RoleContainer> added = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    added.add(deployment.start("worker"));
                    ContainerDeployment.awaitReady(added.getLast());
                }
                int atFour = receiver.deliveries().size();
                receiver.slowDown(Duration.ofMillis(20));
                receiver.release();
                await().atMost(Duration.ofMinutes(2))
                        .until(() -> receiver.deliveries().size() > atFour + 200);
                for (RoleContainer worker : added) worker.stop();
                receiver.slowDown(Duration.ZERO);
                result = load.finish();
            }

            assertThat(result.failures())
                    .as("errors the SDK saw after its retries")
                    .isEmpty();
            await().atMost(Duration.ofMinutes(3))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> receiver.acceptedCounts().keySet().containsAll(result.acknowledged()));
            Map<String, Integer> counts = receiver.acceptedCounts();
            assertThat(counts.keySet()).as("0 acknowledged events lost").containsAll(result.acknowledged());
            assertThat(result.acknowledged()).containsAll(counts.keySet());

            // per-user order of first deliveries
            Map<String, Integer> lastSequence = new HashMap<>();
            Set<String> seen = new HashSet<>();
            List<String> outOfOrder = new ArrayList<>();
            for (OrderRecordingReceiver.Delivery d : receiver.deliveries()) {
                if (!seen.add(d.messageId())) continue;
                Integer previous = lastSequence.put(d.userId(), d.sequence());
                if (previous != null && d.sequence() < previous) outOfOrder.add(d.toString());
            }
            assertThat(outOfOrder)
                    .as("events delivered before an earlier one of their user")
                    .isEmpty();

            long redelivered = counts.values().stream().filter(n -> n > 1).count();
            System.out.printf(
                    "RollingUpgradeIT: %d events acknowledged, %d delivered, %d delivered more than once (%d extra deliveries)%n",
                    result.acknowledged().size(),
                    counts.size(),
                    redelivered,
                    counts.values().stream().mapToInt(n -> n - 1).sum());
        }
    }

    private static int collectorPort(RoleContainer collector) {
        String env = collector.inspect("{{range .Config.Env}}{{println .}}{{end}}");
        return env.lines()
                .filter(line -> line.startsWith("SLUICE_COLLECTOR_PORT="))
                .map(line -> Integer.parseInt(line.substring(line.indexOf('=') + 1)))
                .findFirst()
                .orElseThrow();
    }
}
