package io.sluice.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/** A Sluice role as its own OS process ({@code java -jar target/sluice.jar ROLE --config FILE}), for crash tests. */
public final class SluiceProcess implements AutoCloseable {
    private static final Path JAR = Path.of("target", "sluice.jar").toAbsolutePath();

    private final Process process;
    private final Path log;
    private final String name;

    private SluiceProcess(Process process, Path log, String name) {
        this.process = process;
        this.log = log;
        this.name = name;
    }

    public static SluiceProcess start(String role, Path config, Path logDir, String name) {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path log = logDir.resolve(name + ".log");
        List<String> command =
                new ArrayList<>(List.of(java, "-Xmx256m", "-jar", JAR.toString(), role, "--config", config.toString()));
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            return new SluiceProcess(process, log, name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until the process printed that it runs (or fails the test with its output). */
    public SluiceProcess awaitRunning(Duration timeout) throws InterruptedException {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (output().contains(" is running")) return true;
                if (!process.isAlive()) throw new AssertionError(name + " exited early:\n" + output());
                return false;
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(name + " did not start within " + timeout + ":\n" + output());
        }
        return this;
    }

    /** SIGKILL: no shutdown hook, no lease release, no flush. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    public boolean alive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** SIGTERM and a bounded wait, as an operator's `kill PID`. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
