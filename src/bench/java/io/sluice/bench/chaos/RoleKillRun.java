package io.sluice.bench.chaos;

import io.sluice.embedded.FreePort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The role-kill scenario (docs/reliability.md, scenarios 1 and 3), shared by {@code RoleKillChaosIT} and
 * {@code sluice bench chaos}: two collector processes, a planner (with the violation writer) and a worker, each its own
 * JVM, delivering to the warehouse, a webhook that dedupes nothing and a Kafka mirror. Under SDK-like load (a refused
 * batch is sent again with the same messageIds, to the other collector) the roles are SIGKILLed in a seeded order at
 * seeded moments, each restarted at once, round after round until both the rounds and the minimum time are done.
 * Then the load stops and the run waits for every acknowledged event at every destination and counts what is
 * missing and what arrived twice. It reports; the caller decides what passes.
 */
public final class RoleKillRun {
    static final List<String> ROLES = List.of("collector-0", "collector-1", "planner", "worker");

    /**
     * @param kafka     bootstrap servers of the cluster (not killed)
     * @param mirror    an existing topic for the Kafka destination
     * @param jar       the Sluice jar the role processes run
     * @param minRounds every role killed at least this many times
     * @param minChaos  and the kills go on at least this long
     */
    public record Options(
            String kafka,
            String mirror,
            String queueUrl,
            String warehouseUrl,
            String dbUser,
            Path jar,
            Path workDir,
            long seed,
            int minRounds,
            Duration minChaos,
            Duration catchUpTimeout,
            Consumer<String> progress) {}

    /** What one destination got: acknowledged events missing there, and events it got more than once. */
    public record Delivered(int missing, long twice, int distinct) {}

    public record Result(
            long seed,
            List<String> schedule,
            long chaosSeconds,
            int acknowledged,
            long refusedAttempts,
            long retriedThenAcknowledged,
            int lostInKafka,
            long storedTwiceInKafka,
            int neverAcknowledged,
            long neverAcknowledgedStored,
            Map<String, Delivered> destinations,
            long catchUpMillis) {
        public boolean nothingLost() {
            return lostInKafka == 0 && destinations.values().stream().allMatch(d -> d.missing() == 0);
        }

        public List<String> lines() {
            List<String> lines = new ArrayList<>();
            lines.add(String.format(
                    "seed %d, %d s of kills, %d kills: %s", seed, chaosSeconds, schedule.size(), schedule));
            lines.add(String.format(
                    "load: %d events acknowledged, %d attempts refused or cut (then retried with the same messageIds), "
                            + "%d retried batches acknowledged",
                    acknowledged, refusedAttempts, retriedThenAcknowledged));
            lines.add(String.format(
                    "events topic: acknowledged but missing %d; messageIds stored more than once %d (a killed collector's "
                            + "partial or complete write of a batch the client then retried); never acknowledged ids %d, of them stored %d",
                    lostInKafka, storedTwiceInKafka, neverAcknowledged, neverAcknowledgedStored));
            destinations.forEach((name, d) -> lines.add(String.format(
                    "%s: acked - delivered %d, delivered twice %d, distinct %d",
                    name, d.missing(), d.twice(), d.distinct())));
            lines.add(String.format("caught up %d ms after the load stopped", catchUpMillis));
            return lines;
        }
    }

    private final Options options;
    private final Map<String, RoleProcess> running = new LinkedHashMap<>();
    private final Map<String, Integer> generation = new LinkedHashMap<>();
    private final Map<String, Path> configs = new LinkedHashMap<>();

    public RoleKillRun(Options options) {
        this.options = options;
    }

    public Result run() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String topic = "roles-" + id;
        try (CountingWebhook hook = new CountingWebhook()) {
            int[] ports = {freePort(), freePort()};
            for (String name : ROLES) {
                int port = name.startsWith("collector") ? ports[name.charAt(name.length() - 1) - '0'] : 0;
                configs.put(name, writeConfig(name, port, topic, id, hook));
            }
            try {
                for (String name : ROLES) start(name);
                for (RoleProcess p : running.values()) p.awaitRunning(Duration.ofSeconds(120));
                ChaosLoad load = new ChaosLoad(
                                n -> "http://127.0.0.1:" + ports[n % 2],
                                "wk_roles",
                                "r" + id,
                                4,
                                40,
                                Duration.ofMillis(100))
                        .start();
                await(() -> load.acknowledged().size() >= 500, Duration.ofSeconds(90), "first 500 acknowledged");

                // Each round kills every role once, in a seeded order; a role is killed only once it runs again (so a
                // collector dies while serving requests), at a seeded moment 1-4 s later. Its replacement starts at
                // once.
                Random random = new Random(options.seed());
                List<String> names = new ArrayList<>(ROLES);
                List<String> schedule = new ArrayList<>();
                long chaosStarted = System.nanoTime();
                for (int round = 0;
                        round < options.minRounds()
                                || System.nanoTime() - chaosStarted
                                        < options.minChaos().toNanos();
                        round++) {
                    Collections.shuffle(names, random);
                    for (String victim : names) {
                        running.get(victim).awaitRunning(Duration.ofSeconds(120));
                        Thread.sleep(1000 + random.nextInt(3000));
                        running.get(victim).kill();
                        schedule.add(victim);
                        start(victim);
                    }
                    options.progress()
                            .accept(String.format(
                                    "round %d done after %d s: %d acknowledged so far",
                                    round + 1,
                                    (System.nanoTime() - chaosStarted) / 1_000_000_000,
                                    load.acknowledged().size()));
                }
                for (RoleProcess p : running.values()) p.awaitRunning(Duration.ofSeconds(120));
                long chaosSeconds = (System.nanoTime() - chaosStarted) / 1_000_000_000;
                Thread.sleep(2000);
                load.stop();
                return results(load, hook, topic, schedule, chaosSeconds);
            } finally {
                for (RoleProcess p : running.values()) p.close();
            }
        }
    }

    private Result results(ChaosLoad load, CountingWebhook hook, String topic, List<String> schedule, long seconds)
            throws InterruptedException {
        Set<String> acked = load.acknowledged();
        Map<String, Integer> inKafka =
                DeliveredIds.inTopic(options.kafka(), topic, acked.size(), Duration.ofSeconds(60));
        Set<String> lost = new HashSet<>(acked);
        lost.removeAll(inKafka.keySet());
        Set<String> neverAcked = load.neverAcknowledged();
        long stopped = System.nanoTime();
        options.progress().accept("load stopped; waiting for every acknowledged event at every destination");
        boolean caughtUp = await(
                () -> DeliveredIds.inWarehouse(options.warehouseUrl(), options.dbUser())
                                .keySet()
                                .containsAll(acked)
                        && hook.counts().keySet().containsAll(acked)
                        && DeliveredIds.inTopic(options.kafka(), options.mirror(), acked.size(), Duration.ofSeconds(10))
                                .keySet()
                                .containsAll(acked),
                options.catchUpTimeout(),
                null);
        long catchUp = (System.nanoTime() - stopped) / 1_000_000;
        if (caughtUp) Thread.sleep(2000); // late duplicates (a redelivery in flight) are counted too
        Map<String, Delivered> destinations = new LinkedHashMap<>();
        destinations.put(
                "warehouse", delivered(acked, DeliveredIds.inWarehouse(options.warehouseUrl(), options.dbUser())));
        destinations.put("webhook", delivered(acked, hook.counts()));
        destinations.put(
                "kafka mirror",
                delivered(
                        acked,
                        DeliveredIds.inTopic(options.kafka(), options.mirror(), acked.size(), Duration.ofSeconds(30))));
        return new Result(
                options.seed(),
                List.copyOf(schedule),
                seconds,
                acked.size(),
                load.attempts().stream().filter(a -> a.status() != 200).count(),
                load.retriedThenAcknowledged(),
                lost.size(),
                inKafka.values().stream().filter(n -> n > 1).count(),
                neverAcked.size(),
                neverAcked.stream().filter(inKafka::containsKey).count(),
                destinations,
                catchUp);
    }

    private static Delivered delivered(Set<String> acked, Map<String, Integer> counts) {
        Set<String> missing = new HashSet<>(acked);
        missing.removeAll(counts.keySet());
        return new Delivered(
                missing.size(), counts.values().stream().filter(n -> n > 1).count(), counts.size());
    }

    private void start(String name) {
        int n = generation.merge(name, 1, Integer::sum);
        String role = name.startsWith("collector") ? "collector" : name;
        running.put(name, RoleProcess.start(options.jar(), role, configs.get(name), options.workDir(), name + "-" + n));
    }

    private Path writeConfig(String name, int collectorPort, String topic, String id, CountingWebhook hook)
            throws Exception {
        Path config = options.workDir().resolve(name + ".yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 4, controlTopic: roles-control-%s, violationsTopic: roles-violations-%s}
                postgres: {url: "%s", user: %s}
                collector: {host: 127.0.0.1, port: %d, ackTimeout: 5s}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_roles}]
                destinations:
                  - {id: warehouse, type: postgres, url: "%s", user: %s}
                  - {id: hook, type: webhook, url: "%s", timeout: 3s}
                  - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s}
                syncs:
                  - {id: to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 200, maxAge: 200ms}}
                  - {id: to-hook, source: web, destination: hook, batch: {maxEvents: 100, maxAge: 200ms}}
                  - {id: to-mirror, source: web, destination: mirror, batch: {maxEvents: 200, maxAge: 200ms}}
                planner: {groupId: roles-%s}
                worker: {concurrency: 4, pollInterval: 50ms, leaseDuration: 4s, heartbeatInterval: 1s}
                """.formatted(
                        options.kafka(),
                        topic,
                        id,
                        id,
                        options.queueUrl(),
                        options.dbUser(),
                        collectorPort,
                        options.warehouseUrl(),
                        options.dbUser(),
                        hook.url(),
                        options.kafka(),
                        options.mirror(),
                        id));
        return config;
    }

    /** Polls until the condition holds; false on timeout, or an exception when {@code what} names a precondition. */
    private static boolean await(Supplier<Boolean> condition, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.get()) return true;
            Thread.sleep(1000);
        }
        if (what != null) throw new IllegalStateException("not reached within " + timeout + ": " + what);
        return false;
    }

    private static int freePort() {
        return FreePort.find();
    }
}
