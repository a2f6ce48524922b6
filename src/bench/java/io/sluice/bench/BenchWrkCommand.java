package io.sluice.bench;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
        name = "wrk",
        mixinStandardHelpOptions = true,
        description = {
            "The collector against a raw Kafka producer, in one run, alternated: wrk posting a fixed 100-event /v1/batch body "
                    + "(16 connections), a raw producer (separate JVM, the collector's producer settings) into the same topic, "
                    + "and wrk posting single events to /v1/track (256 connections), each arm with its own warm-up, for --rounds "
                    + "rounds. Reports the ratio batch/raw and /v1/track requests/s, with CPU per event of each process.",
            "Needs wrk (Debian package 'wrk'). Starts its own embedded Kafka and collector; stops by itself. See bench/README.md."
        })
final class BenchWrkCommand implements Callable<Integer> {
    @Option(
            names = "--duration",
            defaultValue = "15s",
            converter = BenchCommand.DurationConverter.class,
            description = "Measured time per arm and round (whole seconds). Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(
            names = "--warmup",
            defaultValue = "5s",
            converter = BenchCommand.DurationConverter.class,
            description = "Unmeasured warm-up before every arm of every round. Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(
            names = "--rounds",
            defaultValue = "2",
            description = "Rounds of batch, raw, track. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(
            names = "--batch-connections",
            defaultValue = "16",
            description = "wrk connections for /v1/batch. Default: ${DEFAULT-VALUE}.")
    int batchConnections;

    @Option(
            names = "--track-connections",
            defaultValue = "256",
            description = "wrk connections for /v1/track. Default: ${DEFAULT-VALUE}.")
    int trackConnections;

    @Option(names = "--wrk-threads", defaultValue = "2", description = "wrk threads. Default: ${DEFAULT-VALUE}.")
    int wrkThreads;

    @Option(
            names = "--batch-size",
            defaultValue = "100",
            description = "Events in the /v1/batch body. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(
            names = "--partitions",
            defaultValue = "8",
            description = "Partitions of the events topic. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(
            names = "--arms",
            defaultValue = "batch,raw,track",
            split = ",",
            description = "Arms per round, in order: batch, raw, track. Default: ${DEFAULT-VALUE}.")
    java.util.List<String> arms;

    @Option(names = "--wrk", defaultValue = "wrk", description = "The wrk binary. Default: ${DEFAULT-VALUE} (on PATH).")
    String wrk;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary (Markdown) to FILE.")
    Path report;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (duration.toSeconds() < 1
                || warmup.isNegative()
                || rounds < 1
                || batchConnections < 1
                || trackConnections < 1
                || wrkThreads < 1
                || batchSize < 1
                || partitions < 1)
            throw new ParameterException(spec.commandLine(), "durations, counts and connections must be positive");
        if (batchSize > 2_500) throw new ParameterException(spec.commandLine(), "--batch-size is at most 2500");
        for (String arm : arms) {
            if (!java.util.List.of("batch", "raw", "track").contains(arm))
                throw new ParameterException(spec.commandLine(), "unknown arm '" + arm + "'; use batch, raw, track");
        }
        String binary = resolve(wrk);
        if (binary == null)
            throw new ParameterException(
                    spec.commandLine(),
                    "wrk not found ('" + wrk
                            + "'): install it (Debian/Ubuntu: apt-get install wrk) or pass --wrk PATH");
        String command = "./sluice "
                + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        String summary = new WrkRun(new WrkRun.Options(
                        duration,
                        warmup,
                        rounds,
                        batchConnections,
                        trackConnections,
                        wrkThreads,
                        batchSize,
                        partitions,
                        java.util.List.copyOf(arms),
                        binary,
                        command.strip()))
                .run();
        if (report != null) {
            Files.writeString(report, summary);
            System.out.println("Summary written to " + report);
        }
        return 0;
    }

    /** The executable: a path as given, or the first match on PATH; null when there is none. */
    static String resolve(String name) {
        if (name.contains("/")) return Files.isExecutable(Path.of(name)) ? name : null;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }
}
