package io.sluice.deploy;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The chart rendered for Kafka and PostgreSQL on this host, its sluice.yaml written where containers mount it, and
 * its roles started as podman containers ({@link RoleContainer}); {@link #close()} prints every container's log
 * and removes it. Topics and consumer group are unique per deployment, so tests share the one test broker.
 */
final class ContainerDeployment implements AutoCloseable {
    static final String WRITE_KEY = "wk_deploy_it";
    private static final Map<String, String> SECRETS = Map.of("SLUICE_PG_PASSWORD", "", "SLUICE_ADMIN_TOKEN", "");

    private final String image;
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final List<HasMetadata> manifests;
    private final Path configDir;
    private final int collectorPort;
    private final List<RoleContainer> containers = new ArrayList<>();

    /** {@code pipeline}: the YAML of {@code destinations:} and {@code syncs:}, indented by two spaces. */
    ContainerDeployment(String image, Path scratch, String pipeline) throws IOException {
        this.image = image;
        this.collectorPort = freePort();
        Path values = scratch.resolve("values.yaml");
        Files.writeString(
                values,
                """
                image: {repository: localhost/sluice, tag: "%s", pullPolicy: Never}
                kafka: {bootstrapServers: "%s", partitions: 4}
                postgres: {url: "%s", user: sluice}
                ports: {collector: %d}
                config:
                  kafka: {eventsTopic: deploy-%s.events, controlTopic: deploy-%s.control, violationsTopic: deploy-%s.violations}
                  planner: {groupId: deploy-%s}
                  sources: [{id: web, writeKey: %s}]
                """.formatted(
                                        image.substring(image.lastIndexOf(':') + 1),
                                        TestKafka.bootstrapServers(),
                                        TestPostgres.createDatabase("deploy_queue"),
                                        collectorPort,
                                        run,
                                        run,
                                        run,
                                        run,
                                        WRITE_KEY)
                        + pipeline);
        manifests = Chart.render(values, Map.of());
        configDir = Files.createDirectories(scratch.resolve("etc-sluice"));
        Files.writeString(
                configDir.resolve("sluice.yaml"),
                manifests.stream()
                        .filter(m -> m instanceof ConfigMap)
                        .map(m -> ((ConfigMap) m).getData().get("sluice.yaml"))
                        .findFirst()
                        .orElseThrow());
        // readable by the image's non-root user, like a mounted ConfigMap
        Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(configDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(configDir.resolve("sluice.yaml"), PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** The collector port of the rendered config (a collector started with {@code collectorPort} 0 uses it). */
    int collectorPort() {
        return collectorPort;
    }

    /** Every manifest the chart rendered for this deployment. */
    List<HasMetadata> manifests() {
        return manifests;
    }

    List<RoleContainer> containers() {
        return containers;
    }

    Deployment deployment(String role) {
        return manifests.stream()
                .filter(m -> m instanceof Deployment)
                .map(m -> (Deployment) m)
                .filter(d -> d.getMetadata().getName().equals("sluice-" + role))
                .findFirst()
                .orElseThrow();
    }

    /** Starts one more container of {@code role}; a collector on {@code collectorPort} (0: the config's port). */
    RoleContainer start(String role, int collectorPort) {
        Map<String, String> env = new java.util.HashMap<>(SECRETS);
        if (collectorPort != 0) env.put("SLUICE_COLLECTOR_PORT", Integer.toString(collectorPort));
        String name = "sluice-it-" + run + "-" + role + "-" + containers.size();
        RoleContainer container = RoleContainer.start(image, deployment(role), name, configDir, freePort(), env);
        containers.add(container);
        return container;
    }

    RoleContainer start(String role) {
        return start(role, 0);
    }

    static void awaitReady(RoleContainer container) {
        await().atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofMillis(500))
                .failFast("container " + container.name + " exited", () -> !container.running())
                .until(() -> container.status("/ready") == 200);
    }

    @Override
    public void close() {
        for (RoleContainer container : containers) {
            System.out.println("=== podman logs " + container.name + "\n" + container.logs());
            container.remove();
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
