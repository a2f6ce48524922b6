package io.sluice.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's podman with runc and cgroupfs: on these machines the default crun is refused its rlimits, so every
 * command names the runtime, and containers get explicit nofile/nproc limits.
 */
final class Podman {
    static final Path IMAGE_TAR = Path.of("target/sluice-image.tar");

    record Result(int exit, String output) {}

    private Podman() {}

    /** Runs podman and returns its output; a non-zero exit is an error that carries the output. */
    static String run(String... args) {
        Result result = tryRun(args);
        if (result.exit() != 0) {
            throw new IllegalStateException(
                    "podman " + String.join(" ", args) + " exited " + result.exit() + ":\n" + result.output());
        }
        return result.output();
    }

    static Result tryRun(String... args) {
        return tryRunIn(null, java.util.Map.of(), args);
    }

    /**
     * {@link #run} in working directory {@code dir} (null: this process's) with extra environment variables (such
     * as {@code CONTAINERS_CONF}).
     */
    static String runIn(Path dir, java.util.Map<String, String> env, String... args) {
        Result result = tryRunIn(dir, env, args);
        if (result.exit() != 0) {
            throw new IllegalStateException(
                    "podman " + String.join(" ", args) + " exited " + result.exit() + ":\n" + result.output());
        }
        return result.output();
    }

    static Result tryRunIn(Path dir, java.util.Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(
                List.of("podman", "--runtime", "/usr/bin/runc", "--cgroup-manager=cgroupfs", "--log-level=error"));
        command.addAll(List.of(args));
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            if (dir != null) builder.directory(dir.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("podman " + String.join(" ", args) + " did not finish");
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new IllegalStateException("podman could not run (install podman and runc: .ci/run does)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code podman load} of the image the build wrote; returns its name, e.g. localhost/sluice:0.1.0-SNAPSHOT. */
    static String loadImage() {
        String output = run("load", "--quiet", "-i", IMAGE_TAR.toString());
        String marker = "Loaded image:";
        int at = output.lastIndexOf(marker);
        if (at < 0) throw new IllegalStateException("podman load said: " + output);
        return output.substring(at + marker.length()).trim().split("\\s+")[0];
    }
}
