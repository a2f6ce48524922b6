package io.sluice.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
                    + "CPU split (JVM parts and PostgreSQL processes) and heap. The load comes from a separate JVM.",
            "--curve 5000,10000,20000,40000,max runs a scaling curve; --external-warehouse puts the warehouse on its own PostgreSQL 15.",
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

    @Option(
            names = "--curve",
            split = ",",
            paramLabel = "STEPS",
            description =
                    "Scaling curve: steps run one after another on the same Sluice, each events/s or 'max' (closed-loop "
                            + "blast), e.g. 5000,10000,20000,40000,max. Replaces --rate.")
    List<String> curve = new ArrayList<>();

    @Option(
            names = "--connections",
            defaultValue = "256",
            description = "Most connections the paced load opens. Default: ${DEFAULT-VALUE}.")
    int connections;

    @Option(
            names = "--blast-connections",
            defaultValue = "16",
            description = "Connections of the closed-loop 'max' step. Default: ${DEFAULT-VALUE}.")
    int blastConnections;

    @Option(
            names = "--warehouse-url",
            paramLabel = "JDBC_URL",
            description =
                    "An external PostgreSQL warehouse (jdbc:postgresql://...; needs CREATE). Default: the embedded one.")
    String warehouseUrl;

    @Option(names = "--warehouse-user", defaultValue = "sluice", description = "User for --warehouse-url.")
    String warehouseUser;

    @Option(names = "--warehouse-password", defaultValue = "", description = "Password for --warehouse-url.")
    String warehousePassword;

    @Option(
            names = "--external-warehouse",
            description =
                    "Start a separate PostgreSQL server (initdb in a temp dir) for the warehouse, stopped at the end.")
    boolean externalWarehouse;

    @Option(
            names = "--external-warehouse-bin",
            defaultValue = WarehouseServer.DEFAULT_BIN,
            description = "PostgreSQL server binaries for --external-warehouse. Default: ${DEFAULT-VALUE}.")
    Path externalWarehouseBin;

    @Option(
            names = "--external-warehouse-port",
            defaultValue = "0",
            description = "Port for --external-warehouse (0: a free one). Default: ${DEFAULT-VALUE}.")
    int externalWarehousePort;

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
        for (String step : curve) {
            if (!step.equals("max") && !step.matches("[1-9]\\d*"))
                throw new ParameterException(
                        spec.commandLine(), "--curve steps are events/s or 'max', not '" + step + "'");
        }
        if (warehouseUrl != null && !warehouseUrl.startsWith("jdbc:postgresql://"))
            throw new ParameterException(spec.commandLine(), "--warehouse-url must be a jdbc:postgresql:// URL");
        if (warehouseUrl != null && externalWarehouse)
            throw new ParameterException(
                    spec.commandLine(), "--warehouse-url and --external-warehouse exclude each other");
        if (connections < 1 || blastConnections < 1)
            throw new ParameterException(spec.commandLine(), "--connections and --blast-connections must be positive");
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
                        command.strip(),
                        List.copyOf(curve),
                        connections,
                        blastConnections,
                        warehouseUrl,
                        warehouseUser,
                        warehousePassword,
                        externalWarehouse,
                        externalWarehouseBin,
                        externalWarehousePort))
                .run();
        return 0;
    }
}
