package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.sluice.support.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code podman kube play} of what the chart renders — its ConfigMap and the collector, planner and worker
 * Deployments, unchanged but for what podman cannot do the kubelet's way (below) — with the image the build wrote;
 * the official Segment SDK's events reach the warehouse through the pods podman made.
 *
 * <p>What the test changes, and why (docs/deployment.md, "podman kube play"): the pods use the host's network
 * ({@code --network host}: Kafka and PostgreSQL listen on this host's 127.0.0.1), so each Deployment gets its own
 * admin port ({@code SLUICE_ADMIN_PORT}), one replica and no {@code ports} (podman refuses port declarations
 * with the host's network); the Secret's keys become plain {@code env} entries (podman
 * 4.3 reads {@code secretRef} from its own secret store, not from a Secret in the YAML); and the HTTP probes are
 * dropped: podman runs an {@code httpGet} probe as {@code curl} inside the container, and the image has no shell
 * and no curl (the kubelet probes from outside). The test polls {@code /ready} itself instead.
 */
class KubePlayIT {
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static String image;

    @BeforeAll
    static void loadImage() {
        assertThat(Podman.IMAGE_TAR)
                .as("./mvnw verify builds the image in pre-integration-test")
                .exists();
        image = Podman.loadImage();
    }

    @Test
    void theRenderedDeploymentsRunUnderKubePlayAndDeliverSdkEvents(@TempDir Path scratch) throws Exception {
        String warehouseUrl = TestPostgres.createDatabase("kube_warehouse");
        ContainerDeployment rendered = new ContainerDeployment(image, scratch, """
                  destinations: [{id: warehouse, type: postgres, url: "%s", user: sluice}]
                  syncs: [{id: web-to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 50, maxAge: 200ms}}]
                """.formatted(warehouseUrl));
        Map<String, Integer> adminPorts = new LinkedHashMap<>();
        List<HasMetadata> played = new ArrayList<>();
        Map<String, String> secrets = secretEnv(rendered.manifests());
        for (HasMetadata manifest : rendered.manifests()) {
            if (manifest instanceof ConfigMap) played.add(manifest);
            if (manifest instanceof Deployment deployment) {
                int port = ContainerDeployment.freePort();
                adminPorts.put(deployment.getMetadata().getName(), port);
                played.add(forPodman(deployment, port, secrets));
            }
        }
        assertThat(adminPorts).containsOnlyKeys("sluice-collector", "sluice-planner", "sluice-worker");
        Path kube = scratch.resolve("kube.yaml");
        StringBuilder yaml = new StringBuilder();
        for (HasMetadata manifest : played) yaml.append("---\n").append(SERIALIZATION.asYaml(manifest));
        Files.writeString(kube, yaml.toString());

        try {
            // In the scratch directory: podman 4.3 first looks for a directory named like the image (here the
            // project's ./sluice launcher, a file) to build it from, and fails on the file, --build=false or not.
            // kube play has no --ulimit: the limits that runc may set here (see Podman) come from a containers.conf,
            // for the pods' infra containers too.
            Path conf = Files.writeString(
                    scratch.resolve("containers.conf"),
                    "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n");
            Podman.runIn(
                    scratch,
                    Map.of("CONTAINERS_CONF", conf.toString()),
                    "kube",
                    "play",
                    "--network",
                    "host",
                    "--replace",
                    kube.toString());
            for (var role : adminPorts.entrySet()) {
                await(role.getKey() + " ready")
                        .atMost(Duration.ofMinutes(4))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> status(role.getValue(), "/ready") == 200);
            }
            List<String> names = containers(false);
            assertThat(names).as("one container per Deployment").hasSize(3);
            for (String name : names) {
                assertThat(inspect(name, "{{.Config.User}}")).isEqualTo("65532:65532");
                assertThat(inspect(name, "{{.HostConfig.ReadonlyRootfs}}")).isEqualTo("true");
                assertThat(inspect(name, "{{.HostConfig.Memory}}")).isNotEqualTo("0");
            }

            SdkLoad.Result sent;
            try (SdkLoad load = new SdkLoad(rendered.collectorPort(), 20)) {
                load.send(200);
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
            }
            for (String name : names) {
                assertThat(inspect(name, "{{.State.Running}}")).isEqualTo("true");
                assertThat(inspect(name, "{{.RestartCount}}"))
                        .as(name + " restarts")
                        .isEqualTo("0");
            }
        } finally {
            System.out.println(Podman.tryRun("pod", "ps").output());
            for (String name : containers(true))
                System.out.println("=== podman logs " + name + "\n"
                        + Podman.tryRun("logs", name).output());
            Podman.tryRun("kube", "down", kube.toString());
            for (String deployment : adminPorts.keySet()) Podman.tryRun("pod", "rm", "--force", deployment + "-pod-0");
        }
    }

    /**
     * The Deployment as podman can run it on this host: one replica, the admin port given, no port declarations, the
     * Secret's keys as env entries, no HTTP probes (see the class comment). Everything else — args, user, read-only root, dropped
     * capabilities, memory limit, the ConfigMap and emptyDir volumes — is the chart's.
     */
    private static Deployment forPodman(Deployment deployment, int adminPort, Map<String, String> secrets) {
        Deployment copy = SERIALIZATION.clone(deployment);
        copy.getSpec().setReplicas(1);
        PodSpec pod = copy.getSpec().getTemplate().getSpec();
        Container container = pod.getContainers().getFirst();
        container.setLivenessProbe(null);
        container.setReadinessProbe(null);
        container.setStartupProbe(null);
        // With the host's network the ports are the processes' own; podman refuses port declarations there
        // ("PortMappings can only be used with Bridge or slirp4netns networking").
        container.setPorts(null);
        container.setEnvFrom(null);
        List<EnvVar> env = new ArrayList<>(container.getEnv() == null ? List.of() : container.getEnv());
        secrets.forEach((name, value) -> env.add(new EnvVar(name, value, null)));
        env.add(new EnvVar("SLUICE_ADMIN_PORT", Integer.toString(adminPort), null));
        container.setEnv(env);
        return copy;
    }

    private static Map<String, String> secretEnv(List<HasMetadata> manifests) {
        Map<String, String> env = new LinkedHashMap<>();
        for (HasMetadata manifest : manifests) {
            if (!(manifest instanceof Secret secret)) continue;
            if (secret.getStringData() != null) env.putAll(secret.getStringData());
            if (secret.getData() != null)
                secret.getData()
                        .forEach((k, v) ->
                                env.put(k, new String(Base64.getDecoder().decode(v))));
        }
        assertThat(env).as("the chart's Secret").containsKeys("SLUICE_PG_PASSWORD", "SLUICE_ADMIN_TOKEN");
        return env;
    }

    /** The role containers kube play made (named after their pods, which are named after the Deployments). */
    private static List<String> containers(boolean stoppedToo) {
        List<String> args = new ArrayList<>(List.of("ps", "--filter", "name=^sluice-(collector|planner|worker)-"));
        if (stoppedToo) args.add("-a");
        args.addAll(List.of("--format", "{{.Names}}"));
        return Podman.tryRun(args.toArray(String[]::new))
                .output()
                .lines()
                .map(String::strip)
                .filter(line -> !line.isEmpty())
                .toList();
    }

    private static String inspect(String container, String format) {
        return Podman.run("inspect", "--format", format, container).strip();
    }

    private static int status(int port, String path) {
        try {
            return HTTP.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static Set<String> ids(Connection warehouse) throws Exception {
        Set<String> ids = new HashSet<>();
        try (ResultSet rows = warehouse.createStatement().executeQuery("SELECT id FROM web.tracks")) {
            while (rows.next()) ids.add(rows.getString(1));
        }
        return ids;
    }
}
