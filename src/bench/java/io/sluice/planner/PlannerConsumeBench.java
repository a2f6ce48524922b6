package io.sluice.planner;

import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.embedded.EmbeddedKafka;
import io.sluice.event.RoutingHeaders;
import io.sluice.kafka.KafkaClients;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Focused harness of the planner's consume path (docs/performance.md, "Collector, planner and warm-up"): one topic
 * of 8 partitions with N collector-shaped records (~570-byte values, routing headers, keys {@code web:user_N}),
 * read from the beginning again and again by the planner's consumer settings and fed to {@link PartitionPlan#add}
 * for two syncs (one filtered by type and event, one not), alternating the value deserializer: {@code copy} (the
 * former {@code ByteArrayDeserializer} for keys and values) and {@code headers} ({@link PlannerRecords}). Reports
 * per event the polling thread's allocated bytes and CPU. Run:
 * {@code java -cp target/sluice.jar io.sluice.planner.PlannerConsumeBench [events] [rounds]}.
 */
public final class PlannerConsumeBench {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final Instant NOW = Instant.parse("2026-12-08T00:00:00Z");

    private PlannerConsumeBench() {}

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 400_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Path dir = Files.createTempDirectory("sluice-planner-bench");
        try (EmbeddedKafka kafka = new EmbeddedKafka(dir, 0)) {
            kafka.start();
            KafkaClients clients = KafkaClients.plain(kafka.bootstrapServers());
            String topic = "events-" + UUID.randomUUID();
            try (var admin = clients.admin(Map.of())) {
                admin.createTopics(List.of(new NewTopic(topic, 8, (short) 1)))
                        .all()
                        .get();
            }
            fill(clients, topic, events);
            System.out.printf("%d events in %s; arms alternate, first round is warm-up%n", events, topic);
            System.out.println("| round | arm | events | allocated bytes/event | CPU µs/event |");
            System.out.println("|--:|---|--:|--:|--:|");
            for (int round = 0; round <= rounds; round++) {
                for (String arm : round % 2 == 0 ? List.of("copy", "headers") : List.of("headers", "copy")) {
                    long[] r = arm.equals("copy")
                            ? consume(clients, topic, events, new ByteArrayDeserializer(), new ByteArrayDeserializer())
                            : consume(
                                    clients,
                                    topic,
                                    events,
                                    new PlannerRecords.SourceDeserializer(),
                                    new PlannerRecords.RoutingValueDeserializer());
                    System.out.printf(
                            "| %s | %s | %,d | %,.0f | %.2f |%n",
                            round == 0 ? "warm-up" : String.valueOf(round),
                            arm,
                            r[0],
                            (double) r[1] / r[0],
                            r[2] / 1000.0 / r[0]);
                }
            }
        }
    }

    private static void fill(KafkaClients clients, String topic, int events) {
        String pad = "x".repeat(420);
        try (var producer = clients.producer(Map.of("linger.ms", 20, "batch.size", 256 * 1024))) {
            for (int i = 0; i < events; i++) {
                String user = "user_" + (i % 5_000);
                String value = "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"" + user
                        + "\",\"messageId\":\"bench-" + i + "\",\"properties\":{\"pad\":\"" + pad + "\"}}";
                producer.send(new ProducerRecord<>(
                        topic,
                        null,
                        ("web:" + user).getBytes(StandardCharsets.UTF_8),
                        value.getBytes(StandardCharsets.UTF_8),
                        RoutingHeaders.of("web", "track", "Order Completed", user, NOW)));
            }
            producer.flush();
        }
    }

    /** @return events, allocated bytes and CPU ns of this thread while polling and planning them all */
    private static <K, V> long[] consume(
            KafkaClients clients, String topic, int events, Deserializer<K> keys, Deserializer<V> values) {
        List<SyncSettings> syncs = List.of(
                new SyncSettings(
                        "orders",
                        "web",
                        "d",
                        List.of("track"),
                        List.of("Order Completed"),
                        5_000,
                        5_000_000,
                        Duration.ofSeconds(1)),
                new SyncSettings("all", "web", "d", List.of(), List.of(), 5_000, 5_000_000, Duration.ofSeconds(1)));
        Map<Integer, PartitionPlan> plans = new java.util.HashMap<>();
        for (int p = 0; p < 8; p++) plans.put(p, new PartitionPlan(p, syncs, Map.of(), 0, NOW));
        try (KafkaConsumer<K, V> consumer = clients.consumer(
                Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000, ConsumerConfig.CLIENT_ID_CONFIG, "bench-planner"),
                keys,
                values)) {
            List<TopicPartition> partitions = java.util.stream.IntStream.range(0, 8)
                    .mapToObj(p -> new TopicPartition(topic, p))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            consumer.poll(Duration.ZERO); // connect outside the measurement
            long thread = Thread.currentThread().threadId();
            long bytes0 = THREADS.getThreadAllocatedBytes(thread);
            long cpu0 = THREADS.getCurrentThreadCpuTime();
            long seen = 0;
            while (seen < events) {
                for (ConsumerRecord<K, V> record : consumer.poll(Duration.ofMillis(100))) {
                    PartitionPlan plan = plans.get(record.partition());
                    if (record.key() instanceof String source) {
                        plan.add(
                                record.offset(),
                                source,
                                (byte[]) record.value(),
                                Math.max(0, record.serializedValueSize()),
                                record.headers(),
                                NOW);
                    } else {
                        plan.add(
                                record.offset(), (byte[]) record.key(), (byte[]) record.value(), record.headers(), NOW);
                    }
                    seen++;
                }
                plans.values().forEach(plan -> {
                    plan.cutAged(NOW.plusSeconds(2));
                    plan.cuts();
                    plan.recorded(plan.progress(), NOW);
                });
            }
            return new long[] {
                seen, THREADS.getThreadAllocatedBytes(thread) - bytes0, THREADS.getCurrentThreadCpuTime() - cpu0
            };
        }
    }
}
