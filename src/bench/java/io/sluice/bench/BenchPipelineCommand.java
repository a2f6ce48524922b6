package io.sluice.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
        name = "pipeline",
        mixinStandardHelpOptions = true,
        description = {
            "End to end: a sustained, paced load of POST /v1/batch through collector -> Kafka -> planner -> queue -> worker -> "
                    + "warehouse, all in one standalone process (embedded Kafka and PostgreSQL in a temp dir). Measures per-event latency "
                    + "(warehouse commit minus received_at), warehouse events/s, backlog and drain, queue statements per 10,000 events, "
                    + "CPU split (JVM parts and PostgreSQL processes) and heap.",
            "Stops by itself. See bench/README.md."
        })
final class BenchPipelineCommand implements Callable<Integer> {
    @Option(
            names = "--rate",
            defaultValue = "20000",
            description = "Events per second offered. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(
            names = "--duration",
            defaultValue = "60s",
            converter = BenchCommand.DurationConverter.class,
            description = "Measured window. Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(
            names = "--warmup",
            defaultValue = "15s",
            converter = BenchCommand.DurationConverter.class,
            description = "Load before the window (not measured). Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(
            names = "--batch-size",
            defaultValue = "100",
            description = "Events per /v1/batch request. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(
            names = "--partitions",
            defaultValue = "8",
            description = "Partitions of the events topic. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(names = "--max-events", description = "The sync's batch.maxEvents. Default: Sluice's default.")
    Integer maxEvents;

    @Option(names = "--max-bytes", description = "The sync's batch.maxBytes (e.g. 1MB). Default: Sluice's default.")
    String maxBytes;

    @Option(names = "--max-age", description = "The sync's batch.maxAge (e.g. 500ms). Default: Sluice's default.")
    String maxAge;

    @Option(names = "--worker-concurrency", description = "worker.concurrency. Default: Sluice's default.")
    Integer workerConcurrency;

    @Option(names = "--poll-interval", description = "worker.pollInterval (e.g. 50ms). Default: Sluice's default.")
    String pollInterval;

    @Option(
            names = "--drain-timeout",
            defaultValue = "120s",
            converter = BenchCommand.DurationConverter.class,
            description =
                    "How long to wait after the window for the warehouse to hold every accepted event. Default: ${DEFAULT-VALUE}.")
    Duration drainTimeout;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary (Markdown) to FILE.")
    Path report;

    @Option(
            names = "--threads",
            description = "Also print the busiest threads, the hottest methods per part and the queue statements.")
    boolean threads;

    @Option(names = "--jfr", paramLabel = "FILE", description = "Keep the window's JFR execution samples in FILE.")
    Path jfr;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (rate < 1
                || batchSize < 1
                || partitions < 1
                || (maxEvents != null && maxEvents < 1)
                || (workerConcurrency != null && workerConcurrency < 1)
                || duration.isZero()
                || duration.isNegative()) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--rate, --batch-size, --partitions, --max-events, --worker-concurrency and --duration must be positive");
        }
        if (batchSize > 2_500) throw new ParameterException(spec.commandLine(), "--batch-size is at most 2500");
        String command = "./sluice "
                + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        new PipelineRun(new PipelineRun.Options(
                        rate,
                        duration,
                        warmup,
                        batchSize,
                        partitions,
                        maxEvents,
                        maxBytes,
                        maxAge,
                        workerConcurrency,
                        pollInterval,
                        drainTimeout,
                        report,
                        threads,
                        jfr,
                        command.strip()))
                .run();
        return 0;
    }
}
