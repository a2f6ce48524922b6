package io.sluice.cli;

import io.sluice.config.SluiceConfig;
import io.sluice.failover.ControlTopic;
import io.sluice.failover.ProcessReport;
import io.sluice.kafka.KafkaClients;
import io.sluice.kafka.TopicSetup;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Planned failover: {@code db pause} tells every Sluice process, through the Kafka control topic, to stop writing
 * to the queue database and waits until each live one reports quiesced; {@code db resume} lifts it;
 * {@code db status} shows what each process reports. Collectors keep accepting events throughout.
 */
@Command(
        name = "db",
        mixinStandardHelpOptions = true,
        description = "Quiesce queue-database writers for a planned failover.",
        subcommands = {DbCommand.Pause.class, DbCommand.Resume.class, DbCommand.Status.class})
final class DbCommand {

    static ControlTopic open(SluiceConfig config) {
        var kafka = config.kafka();
        String bootstrap = kafka.embedded() ? "127.0.0.1:" + kafka.embeddedPort() : kafka.bootstrapServers();
        KafkaClients clients = new KafkaClients(bootstrap, kafka.clientProperties());
        TopicSetup.control(clients, kafka);
        ControlTopic topic = new ControlTopic(clients, kafka.controlTopic(), SluiceCli.CLOCK);
        topic.catchUp(Duration.ofSeconds(15));
        return topic;
    }

    static String operator() {
        try {
            return System.getProperty("user.name") + "@"
                    + InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return System.getProperty("user.name");
        }
    }

    @Command(
            name = "pause",
            mixinStandardHelpOptions = true,
            description = "Stop all queue-database writes and wait until every live process reports quiesced.")
    static final class Pause implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Option(
                names = "--timeout",
                description = "How long to wait for every process to quiesce (default: ${DEFAULT-VALUE}).",
                defaultValue = "60s")
        String timeout;

        @Override
        public Integer call() throws Exception {
            Duration limit = Duration.parse("PT" + timeout.toUpperCase());
            try (ControlTopic topic = open(config.load())) {
                long request = topic.setPaused(true, operator());
                System.out.println("Pause requested; waiting for every Sluice process to quiesce...");
                long deadline = System.nanoTime() + limit.toNanos();
                while (true) {
                    topic.poll(Duration.ofMillis(300));
                    Instant now = SluiceCli.CLOCK.instant();
                    // Judge only once everything before our request is read (every process that could have missed it
                    // has reported by then), and count a "quiesced" only from a process that applied our request.
                    boolean caughtUp = topic.readPast(request);
                    if (caughtUp && !topic.paused()) {
                        System.out.println("NOT safe to fail over: writes were resumed meanwhile (sluice db resume).");
                        return 1;
                    }
                    List<ProcessReport> live = topic.reports().values().stream()
                            .filter(r -> r.live(now))
                            .toList();
                    List<ProcessReport> waiting = live.stream()
                            .filter(r -> !r.state().equals("quiesced") || r.pauseSeen() < request)
                            .toList();
                    if (caughtUp && waiting.isEmpty()) {
                        System.out.println("safe to fail over: "
                                + (live.isEmpty()
                                        ? "no live Sluice process writes to the database"
                                        : live.size() + " process(es) quiesced"));
                        live.forEach(r -> System.out.println("  " + r));
                        System.out.println(
                                "Collectors keep accepting events. Run 'sluice db resume' after the failover.");
                        return 0;
                    }
                    if (System.nanoTime() > deadline) {
                        System.out.println("NOT safe to fail over: still waiting after " + timeout + " for:");
                        waiting.forEach(r -> System.out.println("  " + r));
                        System.out.println("Writes stay paused; run 'sluice db resume' to cancel.");
                        return 1;
                    }
                }
            }
        }
    }

    @Command(
            name = "resume",
            mixinStandardHelpOptions = true,
            description = "Let every process write to the queue database again.")
    static final class Resume implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Override
        public Integer call() throws Exception {
            try (ControlTopic topic = open(config.load())) {
                topic.setPaused(false, operator());
                System.out.println(
                        "Resumed: processes write to the queue database again (after the writer is stable).");
                return 0;
            }
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description =
                    "Show whether writes are paused, each live process's state, the writer it sees and the last writer change.")
    static final class Status implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Override
        public Integer call() throws Exception {
            try (ControlTopic topic = open(config.load())) {
                topic.poll(Duration.ofMillis(1500)); // let live processes' next reports arrive
                Instant now = SluiceCli.CLOCK.instant();
                System.out.println(
                        "Queue-database writes: " + (topic.paused() ? "PAUSED (sluice db resume to lift)" : "allowed"));
                List<ProcessReport> reports = topic.reports().values().stream()
                        .sorted(Comparator.comparing(ProcessReport::id))
                        .toList();
                if (reports.isEmpty()) System.out.println("No Sluice process reports.");
                for (ProcessReport r : reports) {
                    System.out.println((r.live(now) ? "  " : "  (silent since " + r.at() + ") ") + r);
                    if (r.lastWriterChange() != null)
                        System.out.println("      last writer change: " + r.lastWriterChange());
                }
                return 0;
            }
        }
    }
}
