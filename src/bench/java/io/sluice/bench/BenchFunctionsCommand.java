package io.sluice.bench;

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
        name = "functions",
        mixinStandardHelpOptions = true,
        description = {
            "Isolation of a sync whose function calls a service (issue 27): a plain sync and an enriching sync (fetch to a"
                    + " local service) on one source under a paced load, in one standalone process. The service is healthy,"
                    + " slow (2 s per call), failing (500), down, then healthy again.",
            "Reports the plain sync's p50/p99 (arrival minus receivedAt) per phase against the healthy phase, the queue"
                    + " database's transactions and batch rows per phase (the server's statistics), and whether the"
                    + " enriched receiver got every event once, in per-user order."
        })
final class BenchFunctionsCommand implements Callable<Integer> {
    @Option(
            names = "--rate",
            defaultValue = "2000",
            description = "Events per second offered. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(
            names = "--phase",
            defaultValue = "60s",
            converter = BenchCommand.DurationConverter.class,
            description = "Length of each of the five phases. Default: ${DEFAULT-VALUE}.")
    Duration phase;

    @Option(
            names = "--warmup",
            defaultValue = "15s",
            converter = BenchCommand.DurationConverter.class,
            description = "Load before the first phase (not measured). Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(names = "--users", defaultValue = "1000", description = "Distinct users. Default: ${DEFAULT-VALUE}.")
    int users;

    @Option(
            names = "--concurrency",
            defaultValue = "64",
            description = "The enriching sync's fetch.concurrency. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(
            names = "--catch-up",
            defaultValue = "5m",
            converter = BenchCommand.DurationConverter.class,
            description =
                    "How long to wait after the load for both receivers to get every event. Default: ${DEFAULT-VALUE}.")
    Duration catchUp;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary (Markdown) to FILE.")
    Path report;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (rate < 100 || users < 16 || concurrency < 1 || !phase.isPositive())
            throw new ParameterException(
                    spec.commandLine(),
                    "--rate is at least 100, --users at least 16 (one per load lane); the others positive");
        String command = "./sluice "
                + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        String summary = new FunctionsRun(
                        new FunctionsRun.Options(rate, phase, warmup, users, concurrency, catchUp, command))
                .run();
        System.out.println(summary);
        if (report != null) Files.writeString(report, summary);
        return 0;
    }
}
