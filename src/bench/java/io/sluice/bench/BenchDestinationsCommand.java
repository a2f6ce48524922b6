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
        name = "destinations",
        mixinStandardHelpOptions = true,
        description = {
            "Isolation and catch-up (issue 11): a warehouse sync, a healthy webhook and a bad webhook under a paced load, in"
                    + " one standalone process. The bad receiver goes through: answering (baseline), connection refused, black"
                    + " hole, slow (5 s), 100 % 500, 30 % 500, 429 with Retry-After: 2, flaky; each followed by its recovery.",
            "Reports the healthy webhook's p50/p99 (arrival minus receivedAt) per mode and the bad one's catch-up rate."
        })
final class BenchDestinationsCommand implements Callable<Integer> {
    @Option(
            names = "--rate",
            defaultValue = "5000",
            description = "Events per second offered. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(
            names = "--duration",
            defaultValue = "10m",
            converter = BenchCommand.DurationConverter.class,
            description =
                    "All modes together (split evenly, each 2/3 bad then 1/3 recovery). Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(
            names = "--warmup",
            defaultValue = "15s",
            converter = BenchCommand.DurationConverter.class,
            description = "Load before the first phase (not measured). Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(names = "--users", defaultValue = "1000", description = "Distinct users. Default: ${DEFAULT-VALUE}.")
    int users;

    @Option(
            names = "--webhook-mode",
            defaultValue = "batch",
            description =
                    "Both webhooks' mode: batch (a JSON array of up to 100 events per request) or event (one request"
                            + " per event: two such webhooks at 5,000 events/s are 10,000 requests/s, more than 2 cores carry"
                            + " next to the pipeline). Default: ${DEFAULT-VALUE}.")
    String webhookMode;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary (Markdown) to FILE.")
    Path report;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!webhookMode.equals("batch") && !webhookMode.equals("event"))
            throw new ParameterException(spec.commandLine(), "--webhook-mode is batch or event");
        if (rate < 100 || users < 1 || duration.isNegative() || duration.isZero())
            throw new ParameterException(spec.commandLine(), "--rate is at least 100; --users, --duration positive");
        String command = "./sluice "
                + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        String summary = new DestinationsRun(
                        new DestinationsRun.Options(rate, duration, warmup, users, webhookMode, command))
                .run();
        System.out.println(summary);
        if (report != null) Files.writeString(report, summary);
        return 0;
    }
}
