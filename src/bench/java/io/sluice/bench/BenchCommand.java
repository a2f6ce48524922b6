package io.sluice.bench;

import io.sluice.bench.chaos.BenchChaosCommand;
import io.sluice.cli.CommandExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        subcommands = {
            BenchPipelineCommand.class,
            BenchWrkCommand.class,
            BenchChaosCommand.class,
            LoadCommand.class,
            BenchDestinationsCommand.class,
            BenchBackfillCommand.class,
            BenchFunctionsCommand.class
        },
        description = {
            "Measures, in one run on this machine: a raw Kafka producer with the collector's settings (events/s), "
                    + "then the collector's POST /v1/batch (events/s) and POST /v1/track (requests/s), with latency, heap and CPU split.",
            "Starts its own embedded Kafka (temp dir) and in-process collector; stops by itself. See bench/README.md.",
            "'bench pipeline' measures the whole pipeline end to end instead (see its --help); 'bench chaos' runs the seeded "
                    + "role-kill scenario (see its --help); 'bench destinations' the bad-webhook isolation and catch-up scenario;"
                    + " 'bench functions' a sync enriching from a failing service beside a plain one."
        })
public final class BenchCommand implements Callable<Integer>, CommandExtension {
    @Option(
            names = "--duration",
            defaultValue = "20s",
            converter = DurationConverter.class,
            description = "Measured time per phase (e.g. 20s, 1m). Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(
            names = "--warmup",
            defaultValue = "10s",
            converter = DurationConverter.class,
            description = "Unmeasured warm-up per phase. Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(
            names = "--concurrency",
            defaultValue = "16",
            description = "Concurrent keep-alive connections for /v1/batch. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(
            names = "--track-concurrency",
            defaultValue = "128",
            description = "Concurrent keep-alive connections for /v1/track. Default: ${DEFAULT-VALUE}.")
    int trackConcurrency;

    @Option(
            names = "--batch-size",
            defaultValue = "100",
            description = "Events per /v1/batch request. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(
            names = "--partitions",
            defaultValue = "8",
            description = "Partitions of the bench topics. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(
            names = "--phases",
            defaultValue = "raw,batch,track",
            split = ",",
            description = "Phases to run, in order: raw, batch, track. Default: ${DEFAULT-VALUE}.")
    List<String> phases;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary (Markdown) to FILE.")
    Path report;

    @Option(names = "--threads", description = "Also print the busiest threads of each phase.")
    boolean threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (duration.isZero()
                || duration.isNegative()
                || concurrency < 1
                || trackConcurrency < 1
                || batchSize < 1
                || partitions < 1) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(),
                    "--duration, --concurrency, --track-concurrency, --batch-size and --partitions must be positive");
        }
        if (batchSize > 2_500)
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--batch-size is at most 2500");
        for (String phase : phases) {
            if (!List.of("raw", "batch", "track").contains(phase)) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(), "unknown phase '" + phase + "'; use raw, batch, track");
            }
        }
        String command = String.join(" ", spec.commandLine().getParseResult().originalArgs());
        new BenchRun(new BenchRun.Options(
                        duration,
                        warmup,
                        concurrency,
                        trackConcurrency,
                        batchSize,
                        partitions,
                        List.copyOf(phases),
                        report,
                        threads,
                        "./sluice " + command))
                .run();
        return 0;
    }

    /** 500ms, 20s, 2m, or ISO-8601 (PT20S). */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            var m = Pattern.compile("(\\d+)(ms|s|m)").matcher(value.trim());
            if (!m.matches()) return Duration.parse(value);
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        }
    }
}
