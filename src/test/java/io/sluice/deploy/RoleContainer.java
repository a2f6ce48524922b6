package io.sluice.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One role of the rendered chart run as a podman container the way its Deployment describes it: the same args,
 * user, read-only root with a writable /tmp only, dropped capabilities, memory limit and stop grace period. Host
 * networking, so each container gets its own admin port through {@code SLUICE_ADMIN_PORT}.
 */
final class RoleContainer {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final String name;
    final int adminPort;
    final long memoryLimitBytes;
    final int gracePeriodSeconds;

    private RoleContainer(String name, int adminPort, long memoryLimitBytes, int gracePeriodSeconds) {
        this.name = name;
        this.adminPort = adminPort;
        this.memoryLimitBytes = memoryLimitBytes;
        this.gracePeriodSeconds = gracePeriodSeconds;
    }

    static RoleContainer start(
            String image, Deployment deployment, String name, Path configDir, int adminPort, Map<String, String> env) {
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container container = pod.getContainers().getFirst();
        long memory = Quantity.getAmountInBytes(
                        container.getResources().getLimits().get("memory"))
                .longValueExact();
        int grace = pod.getTerminationGracePeriodSeconds().intValue();
        List<String> args = new ArrayList<>(List.of(
                "run",
                "--detach",
                "--name",
                name,
                "--network",
                "host",
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=4096:4096",
                "--memory",
                Long.toString(memory),
                "--memory-swap",
                Long.toString(memory),
                "--user",
                pod.getSecurityContext().getRunAsUser() + ":"
                        + pod.getSecurityContext().getRunAsGroup(),
                "--cap-drop",
                "ALL",
                "--security-opt",
                "no-new-privileges",
                "--stop-timeout",
                Integer.toString(grace),
                "--volume",
                configDir.toAbsolutePath() + ":/etc/sluice:ro",
                "--env",
                "SLUICE_ADMIN_PORT=" + adminPort));
        if (Boolean.TRUE.equals(container.getSecurityContext().getReadOnlyRootFilesystem())) {
            // like the chart: nothing writable but /tmp (an emptyDir there)
            args.addAll(List.of("--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,mode=1777,size=256m"));
        }
        env.forEach((key, value) -> args.addAll(List.of("--env", key + "=" + value)));
        args.add(image);
        args.addAll(container.getArgs());
        Podman.run(args.toArray(String[]::new));
        return new RoleContainer(name, adminPort, memory, grace);
    }

    String adminUrl(String path) {
        return "http://127.0.0.1:" + adminPort + path;
    }

    /** The status of GET on the admin port, or -1 when nothing answers. */
    int status(String path) {
        try {
            return HTTP.send(
                            HttpRequest.newBuilder(URI.create(adminUrl(path)))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    String get(String path) throws Exception {
        return HTTP.send(
                        HttpRequest.newBuilder(URI.create(adminUrl(path)))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** Whether the container is still running (podman inspect). */
    boolean running() {
        return Podman.run("inspect", "--format", "{{.State.Running}}", name)
                .trim()
                .equals("true");
    }

    String inspect(String format) {
        return Podman.run("inspect", "--format", format, name).trim();
    }

    String logs() {
        return Podman.tryRun("logs", name).output();
    }

    /** SIGTERM, then SIGKILL after the chart's grace period, like the kubelet. */
    void stop() {
        Podman.run("stop", "--time", Integer.toString(gracePeriodSeconds), name);
    }

    void remove() {
        Podman.tryRun("rm", "--force", "--time", "0", name);
    }
}
