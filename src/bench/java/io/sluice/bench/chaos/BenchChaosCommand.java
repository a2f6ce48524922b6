package io.sluice.bench.chaos;

import io.sluice.embedded.EmbeddedKafka;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.kafka.KafkaClients;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
        name = "chaos",
        mixinStandardHelpOptions = true,
        description = {
            "The role-kill scenario of docs/reliability.md, longer and seeded: two collectors, a planner (with the violation "
                    + "writer) and a worker as separate processes of this jar, under SDK-like load, SIGKILLed at seeded random "
                    + "moments for --minutes, each restarted at once; then everything caught up. Reports acknowledged, lost and "
                    + "delivered-twice per destination (warehouse, webhook, Kafka mirror). Kafka and PostgreSQL are embedded in "
                    + "this process (temp dir) and are not killed.",
            "Exit code 0 when nothing acknowledged was lost, 1 otherwise. See bench/README.md."
        })
public final class BenchChaosCommand implements Callable<Integer> {
    @Option(
            names = "--minutes",
            defaultValue = "5",
            description = "Kills go on at least this long. Default: ${DEFAULT-VALUE}.")
    double minutes;

    @Option(
            names = "--seed",
            defaultValue = "14",
            description = "Seeds the kill order and moments. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(
            names = "--catch-up-timeout",
            defaultValue = "300",
            description = "Seconds to wait, after the load stops, for every acknowledged event at every destination. "
                    + "Default: ${DEFAULT-VALUE}.")
    int catchUpSeconds;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary (Markdown) to FILE.")
    Path report;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (minutes <= 0 || catchUpSeconds < 1)
            throw new ParameterException(spec.commandLine(), "--minutes and --catch-up-timeout must be positive");
        Path jar = Path.of(BenchChaosCommand.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        if (!jar.toString().endsWith(".jar"))
            throw new ParameterException(
                    spec.commandLine(), "run from the Sluice jar (./sluice bench chaos), not " + jar);
        Path dir = Files.createTempDirectory("sluice-bench-chaos");
        EmbeddedKafka kafka = new EmbeddedKafka(dir.resolve("kafka"), 0);
        EmbeddedPostgres postgres = new EmbeddedPostgres(dir.resolve("postgres"), 0, "sluice");
        Instant started = Instant.now();
        try {
            kafka.start();
            postgres.start();
            postgres.createDatabase("chaos_queue");
            postgres.createDatabase("chaos_warehouse");
            String mirror = "chaos-mirror";
            try (Admin admin = KafkaClients.plain(kafka.bootstrapServers()).admin(Map.of())) {
                admin.createTopics(List.of(new NewTopic(mirror, 4, (short) 1)))
                        .all()
                        .get(30, TimeUnit.SECONDS);
            }
            Path work = Files.createDirectories(dir.resolve("roles"));
            System.out.printf("Role kills for %.1f min, seed %d; role logs in %s%n", minutes, seed, work);
            RoleKillRun.Result result = new RoleKillRun(new RoleKillRun.Options(
                            kafka.bootstrapServers(),
                            mirror,
                            postgres.jdbcUrl("chaos_queue"),
                            postgres.jdbcUrl("chaos_warehouse"),
                            "sluice",
                            jar,
                            work,
                            seed,
                            1,
                            Duration.ofMillis((long) (minutes * 60_000)),
                            Duration.ofSeconds(catchUpSeconds),
                            line -> System.out.println("  " + line)))
                    .run();
            String command = "./sluice "
                    + String.join(" ", spec.commandLine().getParseResult().originalArgs());
            StringBuilder summary = new StringBuilder("## " + command.strip() + " (" + started + ")\n\n");
            for (String line : result.lines()) summary.append("- ").append(line).append('\n');
            summary.append("- verdict: ")
                    .append(result.nothingLost() ? "nothing acknowledged was lost" : "LOST EVENTS")
                    .append('\n');
            System.out.println();
            System.out.print(summary);
            if (report != null) Files.writeString(report, summary.toString());
            return result.nothingLost() ? 0 : 1;
        } finally {
            postgres.close();
            kafka.close();
            deleteRecursively(dir);
        }
    }

    // Not BenchRun's: the bench package sits above this one (it lists this command), so no import back up.
    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("Could not remove " + dir + ": " + e.getMessage());
        }
    }
}
