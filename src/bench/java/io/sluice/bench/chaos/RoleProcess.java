package io.sluice.bench.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Sluice role as its own OS process ({@code java -jar JAR ROLE --config FILE}) that can be SIGKILLed: what the
 * role-kill scenario runs, from the test suite (target/sluice.jar) or from {@code sluice bench chaos} (its own jar).
 */
public final class RoleProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final String name;

    private RoleProcess(Process process, Path log, String name) {
        this.process = process;
        this.log = log;
        this.name = name;
    }

    public static RoleProcess start(Path jar, String role, Path config, Path logDir, String name) {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path log = logDir.resolve(name + ".log");
        List<String> command = List.of(java, "-Xmx256m", "-jar", jar.toString(), role, "--config", config.toString());
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            return new RoleProcess(process, log, name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until the process printed that it runs; fails with its output if it exits or takes too long. */
    public RoleProcess awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (output().contains(" is running")) return this;
            if (!process.isAlive()) throw new IllegalStateException(name + " exited early:\n" + tail(output()));
            Thread.sleep(100);
        }
        throw new IllegalStateException(name + " did not start within " + timeout + ":\n" + tail(output()));
    }

    /** SIGKILL: no shutdown hook, no lease release, no flush. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    public boolean alive() {
        return process.isAlive();
    }

    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String tail(String text) {
        return text.length() <= 6000 ? text : text.substring(text.length() - 6000);
    }

    /** SIGTERM and a bounded wait, as an operator's `kill PID`. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
