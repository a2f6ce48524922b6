package io.sluice.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.collector.EventPublisher;
import io.sluice.embedded.EmbeddedKafka;
import io.sluice.event.RoutingHeaders;
import io.sluice.kafka.KafkaClients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * Focused harness for the collector producer's compression (docs/performance.md, "Collector, planner and warm-up"):
 * an embedded broker, one 8-partition topic and one producer per arm with the collector's own producer settings
 * ({@link EventPublisher#producerProperties}) except the arm's {@code compression.type} (and {@code linger.ms} for
 * an arm named {@code codec@lingerN}); the arms take turns, each sending the bench's enriched ~720-byte events with
 * routing headers one {@code send()} at a time, paced at the given rate, like the collector's request threads. Per
 * arm and turn, per acknowledged event: CPU µs and allocated bytes of the sending thread (where the producer
 * compresses), the arm's producer I/O thread, the broker (every other thread) and the JVM (GC, JIT: process CPU not
 * accounted to a thread); bytes the topic takes on disk; and the CPU and allocation of reading the turn's records
 * back with a consumer (what the planner and each worker pay to decompress). Run: {@code java -Xmx1g -cp target/sluice.jar
 * io.sluice.bench.CompressionBench [rate] [seconds] [rounds] [arms...]}.
 */
public final class CompressionBench {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private CompressionBench() {}

    private record Arm(
            String name, String topic, KafkaProducer<byte[], byte[]> producer, KafkaConsumer<byte[], byte[]> reader) {}

    private record Sample(String name, long cpu, long allocated) {}

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        List<String> armNames = args.length > 3
                ? List.of(args).subList(3, args.length)
                : List.of("lz4", "zstd", "snappy", "none", "lz4@linger20", "zstd@linger20");
        Path dir = Files.createTempDirectory("sluice-compression-bench");
        BenchEvents generator = new BenchEvents();
        List<ObjectNode> events = generator.events(20_000);
        List<byte[]> keys = events.stream().map(BenchEvents::partitionKey).toList();
        List<byte[]> values = new ArrayList<>();
        List<List<Header>> headers = new ArrayList<>();
        Instant now = Instant.now();
        for (ObjectNode event : events) {
            enrich(event, now);
            values.add(generator.bytes(event));
            headers.add(RoutingHeaders.of(
                    "web", "track", "Order Completed", event.get("userId").asText(), now));
        }
        double meanBytes = values.stream().mapToInt(v -> v.length).average().orElse(0);
        try (EmbeddedKafka kafka = new EmbeddedKafka(dir.resolve("kafka"), 0)) {
            kafka.start();
            KafkaClients clients = KafkaClients.plain(kafka.bootstrapServers());
            Map<String, Arm> arms = new LinkedHashMap<>();
            try (var admin = clients.admin(Map.of())) {
                for (String name : armNames) {
                    String topic = "events-" + name.replace('@', '-');
                    admin.createTopics(List.of(new NewTopic(topic, 8, (short) 1)))
                            .all()
                            .get();
                    KafkaConsumer<byte[], byte[]> reader = clients.consumer(Map.of(
                            ConsumerConfig.CLIENT_ID_CONFIG,
                            "bench-reader-" + name,
                            ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                            5000));
                    List<TopicPartition> partitions = IntStream.range(0, 8)
                            .mapToObj(p -> new TopicPartition(topic, p))
                            .toList();
                    reader.assign(partitions);
                    reader.seekToBeginning(partitions);
                    arms.put(name, new Arm(name, topic, producer(clients, name), reader));
                }
            }
            System.out.printf(
                    "%,d ev/s for %d s per turn, %d rounds (+1 warm-up), mean value %.0f bytes, arms %s%n",
                    rate, seconds, rounds, meanBytes, armNames);
            System.out.println("| round | arm | acked | sender µs/ev | producer I/O µs/ev | broker µs/ev | GC+JIT µs/ev"
                    + " | **total µs/ev** | allocated B/ev (sender+I/O) | allocated B/ev (broker) | disk B/ev"
                    + " | read-back µs/ev | read-back B/ev |");
            System.out.println("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            for (int round = 0; round <= rounds; round++) {
                List<Arm> order = new ArrayList<>(arms.values());
                if (round % 2 == 1) java.util.Collections.reverse(order);
                for (Arm arm : order) {
                    turn(arm, dir.resolve("kafka/logs"), keys, values, headers, rate, seconds, round);
                }
            }
            arms.values().forEach(arm -> {
                arm.producer().close(Duration.ofSeconds(5));
                arm.reader().close();
            });
        }
    }

    private static void enrich(ObjectNode event, Instant now) {
        // what the collector adds before producing (EventEnricher): about 150 bytes
        event.put("receivedAt", now.toString());
        event.put("sentAt", now.toString());
        event.put("originalTimestamp", event.get("timestamp").asText());
        ((ObjectNode) event.get("context")).put("ip", "198.51.100.23");
    }

    private static KafkaProducer<byte[], byte[]> producer(KafkaClients clients, String arm) {
        String[] parts = arm.split("@linger");
        Map<String, Object> props = new HashMap<>(
                EventPublisher.producerProperties(clients.bootstrapServers(), Duration.ofSeconds(10), 64L << 20));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, parts[0]);
        if (parts.length > 1) {
            int linger = Integer.parseInt(parts[1]);
            props.put(ProducerConfig.LINGER_MS_CONFIG, linger);
            // the collector keeps delivery.timeout = request.timeout + linger + 1
            int delivery = (Integer) props.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
            props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, delivery - linger - 1);
        }
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-" + arm);
        return clients.producer(props);
    }

    private static void turn(
            Arm arm,
            Path logs,
            List<byte[]> keys,
            List<byte[]> values,
            List<List<Header>> headers,
            int rate,
            int seconds,
            int round) {
        long diskBefore = diskBytes(logs, arm.topic());
        Map<Long, Sample> before = threads();
        long processBefore = OS.getProcessCpuTime();
        LongAdder acked = new LongAdder();
        long total = (long) rate * seconds;
        long start = System.nanoTime();
        for (long i = 0; i < total; i++) {
            long due = start + i * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 50_000) LockSupport.parkNanos(wait);
            int n = (int) (i % values.size());
            arm.producer()
                    .send(
                            new ProducerRecord<>(arm.topic(), null, keys.get(n), values.get(n), headers.get(n)),
                            (metadata, error) -> {
                                if (error == null) acked.increment();
                            });
        }
        arm.producer().flush();
        long processCpu = OS.getProcessCpuTime() - processBefore;
        Map<Long, Sample> after = threads();
        long sender = 0, io = 0, broker = 0, other = 0, senderAlloc = 0, brokerAlloc = 0;
        long self = Thread.currentThread().threadId();
        for (var entry : after.entrySet()) {
            Sample b = before.getOrDefault(
                    entry.getKey(), new Sample(entry.getValue().name(), 0, 0));
            long cpu = entry.getValue().cpu() - b.cpu();
            long alloc = entry.getValue().allocated() - b.allocated();
            String name = entry.getValue().name();
            if (entry.getKey() == self) {
                sender += cpu;
                senderAlloc += alloc;
            } else if (name.contains("bench-" + arm.name())) {
                io += cpu;
                senderAlloc += alloc;
            } else if (name.contains("kafka-producer-network-thread")) {
                other += cpu; // another arm's idle producer
            } else {
                broker += cpu;
                brokerAlloc += alloc;
            }
        }
        long jvm = processCpu - sender - io - broker - other;
        long events = Math.max(1, acked.sum());
        long[] read = readBack(arm, acked.sum());
        System.out.printf(
                "| %s | %s | %,d | %.1f | %.1f | %.1f | %.1f | **%.1f** | %,d | %,d | %.0f | %.1f | %,d |%n",
                round == 0 ? "warm-up" : String.valueOf(round),
                arm.name(),
                acked.sum(),
                sender / 1000.0 / events,
                io / 1000.0 / events,
                broker / 1000.0 / events,
                jvm / 1000.0 / events,
                (sender + io + broker + jvm) / 1000.0 / events,
                senderAlloc / events,
                brokerAlloc / events,
                (double) (diskBytes(logs, arm.topic()) - diskBefore) / events,
                read[1] / 1000.0 / Math.max(1, read[0]),
                read[2] / Math.max(1, read[0]));
    }

    /**
     * Reads the turn's records back as the planner and the workers do (a consumer on this thread: fetch, decompress,
     * parse): records read, this thread's CPU ns and allocated bytes. The consumer's fetches run on this thread.
     */
    private static long[] readBack(Arm arm, long expected) {
        long self = Thread.currentThread().threadId();
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long bytes0 = THREADS.getThreadAllocatedBytes(self);
        long read = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (read < expected && System.nanoTime() < deadline) {
            read += arm.reader().poll(Duration.ofMillis(100)).count();
        }
        return new long[] {
            read, THREADS.getCurrentThreadCpuTime() - cpu0, THREADS.getThreadAllocatedBytes(self) - bytes0
        };
    }

    private static Map<Long, Sample> threads() {
        long[] ids = THREADS.getAllThreadIds();
        long[] cpu = THREADS.getThreadCpuTime(ids);
        long[] allocated = THREADS.getThreadAllocatedBytes(ids);
        ThreadInfo[] infos = THREADS.getThreadInfo(ids);
        Map<Long, Sample> samples = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (infos[i] == null || cpu[i] < 0) continue;
            samples.put(ids[i], new Sample(infos[i].getThreadName(), cpu[i], Math.max(0, allocated[i])));
        }
        return samples;
    }

    /** The size of the topic's log segments (every partition), which grow by what the broker wrote. */
    private static long diskBytes(Path logs, String topic) {
        try (Stream<Path> files = Files.walk(logs)) {
            String partitionDir = java.util.regex.Pattern.quote(topic) + "-\\d+";
            return files.filter(f -> f.getParent().getFileName().toString().matches(partitionDir)
                            && f.getFileName().toString().endsWith(".log"))
                    .mapToLong(f -> {
                        try {
                            return Files.size(f);
                        } catch (IOException e) {
                            return 0;
                        }
                    })
                    .sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
