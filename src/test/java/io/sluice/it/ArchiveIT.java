package io.sluice.it;

import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.archive.Archive;
import io.sluice.archive.ArchiveCursor;
import io.sluice.archive.ArchiveName;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.BrokerCluster;
import io.sluice.support.CountingReceiver;
import io.sluice.support.Http;
import io.sluice.support.S3ProxyServer;
import io.sluice.support.SluiceProcess;
import io.sluice.support.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * History beyond Kafka's retention (docs/replay.md), end to end on a real broker whose retention really deletes the
 * early segments (a one-node cluster checking retention every second; the topic's retention is lowered once the
 * archiver has copied it, and the test waits for the log start offset to move), real PostgreSQL, a counting webhook
 * receiver and a real S3-compatible server (S3Proxy) or a directory. A backfill over a window that starts three days
 * back — long deleted from Kafka — and ends with events Kafka still holds delivers every event of the window exactly
 * once and nothing before it; the archive holds each record byte for byte; an archiver SIGKILLed midway and
 * restarted leaves an archive without a gap or an overlap.
 */
class ArchiveIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int PARTITIONS = 4;
    static final Instant T0 = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(72));
    static final Instant T1 = T0.plus(Duration.ofHours(1));
    static BrokerCluster kafka;

    @TempDir
    static Path clusterDir;

    @TempDir
    Path dir;

    String id = UUID.randomUUID().toString().substring(0, 8);
    String token = "tok-" + id;
    String topic = "archive-events-" + id;
    String queueUrl;
    final CountingReceiver hook = new CountingReceiver();
    final Set<String> window = new HashSet<>();
    final Set<String> before = new HashSet<>();
    final Map<Integer, Long> recentStart = new HashMap<>();

    @BeforeAll
    static void startKafka() {
        kafka = BrokerCluster.start(clusterDir, 1, p -> {
            p.put("log.retention.check.interval.ms", "1000");
            return p;
        });
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) kafka.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        queueUrl = TestPostgres.createDatabase("ar_q");
        try (Admin admin = kafka.admin()) {
            // kept until the test lowers retention; segments roll at every append of days-old records
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1)
                            .configs(Map.of("retention.ms", "-1", "segment.ms", "60000"))))
                    .all()
                    .get();
        }
    }

    @AfterEach
    void tearDown() {
        hook.close();
    }

    @Test
    void aWindowOlderThanKafkasRetentionComesFromS3ByteForByteAndArrivesExactlyOnce() throws Exception {
        sendHistory(120);
        try (S3ProxyServer s3 = S3ProxyServer.start(dir, "events-archive")) {
            Path config = config("""
                    archive:
                      enabled: true
                      s3: {bucket: events-archive, prefix: "sluice/", endpoint: "%s", region: us-east-1, pathStyle: true,
                           accessKeyId: "%s", secretAccessKey: "%s"}
                      groupId: archiver-%s
                      fileMaxAge: 1s
                      fileMaxBytes: 16KB
                    """.formatted(s3.endpoint(), S3ProxyServer.IDENTITY, S3ProxyServer.CREDENTIAL, id));
            try (Sluice sluice = sluice(config, EnumSet.allOf(Sluice.Role.class));
                    Archive archive = archiveOf(config)) {
                awaitArchived(archive);
                assertByteForByte(archive);
                deleteHistoryFromKafka();
                backfillAndAssertExactlyOnce(sluice);
            }
        }
    }

    @Test
    void anArchiverKilledMidwayLeavesNoGapNorOverlapAndTheBackfillArrivesExactlyOnce() throws Exception {
        sendHistory(1500);
        Path config = config("""
                archive:
                  enabled: true
                  directory: "%s"
                  groupId: archiver-%s
                  fileMaxAge: 1s
                  fileMaxBytes: 2KB
                """.formatted(dir.resolve("archive"), id));
        try (Sluice sluice = sluice(config, EnumSet.of(Sluice.Role.COLLECTOR, Sluice.Role.WORKER));
                Archive archive = archiveOf(config)) {
            SluiceProcess planner1 =
                    SluiceProcess.start("planner", config, dir, "planner-1").awaitRunning(Duration.ofSeconds(180));
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> files(archive) >= 20);
            planner1.kill();
            assertThat(archived(archive))
                    .as("the kill landed while the archiver was copying (else this proved nothing)")
                    .isLessThan(total());
            try (SluiceProcess planner2 =
                    SluiceProcess.start("planner", config, dir, "planner-2").awaitRunning(Duration.ofSeconds(180))) {
                awaitArchived(archive);
                for (int p = 0; p < PARTITIONS; p++) {
                    List<ArchiveName> files = archive.files(p);
                    for (int i = 1; i < files.size(); i++)
                        assertThat(files.get(i).first())
                                .as("partition %d: file %s follows %s", p, files.get(i), files.get(i - 1))
                                .isEqualTo(files.get(i - 1).end());
                }
                assertByteForByte(archive);
                deleteHistoryFromKafka();
                backfillAndAssertExactlyOnce(sluice);
                assertThat(planner2.output()).doesNotContain("Exception in thread");
            }
        }
    }

    /** Days-old events (before the window, then in it) and then recent ones (in it), each partition alike. */
    private void sendHistory(int oldPerPartition) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ProducerConfig.ACKS_CONFIG,
                        "all"),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
            send(producer, "before", T0, 30, before);
            send(producer, "old", T1, oldPerPartition, window);
            producer.flush(); // the recent events go to segments of their own: retention keeps those
            Instant now = Instant.now().minus(Duration.ofMinutes(1));
            for (int p = 0; p < PARTITIONS; p++) {
                try {
                    recentStart.put(
                            p,
                            producer.send(record(p, "recent-first-" + p, now))
                                    .get()
                                    .offset());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                window.add("recent-first-" + p);
            }
            send(producer, "recent", now, 40, window);
        }
    }

    private void send(
            KafkaProducer<byte[], byte[]> producer, String prefix, Instant at, int perPartition, Set<String> ids) {
        for (int i = 0; i < perPartition * PARTITIONS; i++) {
            String messageId = prefix + "-" + i;
            ids.add(messageId);
            producer.send(record(i % PARTITIONS, messageId, at.plusMillis(i)));
        }
        producer.flush();
    }

    private ProducerRecord<byte[], byte[]> record(int partition, String messageId, Instant at) {
        String user = "user-" + (messageId.hashCode() & 15);
        String value = "{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"" + user + "\",\"messageId\":\"" + messageId
                + "\",\"receivedAt\":\"" + at + "\",\"timestamp\":\"" + at
                + "\",\"sourceId\":\"web\",\"properties\":{\"é\":\"ü\"}}";
        RecordHeaders headers = new RecordHeaders();
        headers.add("x-archive-test", messageId.getBytes(StandardCharsets.UTF_8));
        headers.add("x-empty", new byte[0]);
        return new ProducerRecord<>(
                topic,
                partition,
                at.toEpochMilli(),
                ("web:" + user).getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8),
                headers);
    }

    private Path config(String archive) throws Exception {
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(
                config,
                """
                dataDir: "%s"
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: %d}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0, token: %s}
                sources: [{id: web, writeKey: wk_ar}]
                destinations:
                  - {id: hook, type: webhook, url: "%s"}
                syncs:
                  - {id: to-hook, source: web, destination: hook, startFrom: latest, batch: {maxEvents: 50, maxAge: 200ms}}
                planner: {groupId: ar-%s}
                worker: {concurrency: 3, pollInterval: 50ms, leaseDuration: 4s, heartbeatInterval: 1s}
                """.formatted(
                                        dir.resolve("data"),
                                        kafka.bootstrapServers(),
                                        topic,
                                        PARTITIONS,
                                        queueUrl,
                                        token,
                                        hook.url(),
                                        id)
                        + archive);
        return config;
    }

    private Archive archiveOf(Path config) {
        return Archive.open(new ConfigLoader(Map.of()).load(config).archive(), topic)
                .orElseThrow();
    }

    private Sluice sluice(Path config, Set<Sluice.Role> roles) {
        Sluice sluice = new Sluice(new ConfigLoader(Map.of()).load(config), roles, false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }

    private long total() {
        return endOffsets().values().stream().mapToLong(Long::longValue).sum();
    }

    private long archived(Archive archive) throws Exception {
        long sum = 0;
        for (int p = 0; p < PARTITIONS; p++) sum += archive.end(p);
        return sum;
    }

    private static long files(Archive archive) throws Exception {
        long sum = 0;
        for (int p = 0; p < PARTITIONS; p++) sum += archive.files(p).size();
        return sum;
    }

    private void awaitArchived(Archive archive) {
        Map<TopicPartition, Long> ends = endOffsets();
        await().atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    for (var e : ends.entrySet()) if (archive.end(e.getKey().partition()) < e.getValue()) return false;
                    return true;
                });
    }

    /** Every record Kafka holds, read back from the archive: same offset, timestamp, key, value and headers. */
    private void assertByteForByte(Archive archive) throws Exception {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                long end = consumer.endOffsets(List.of(tp)).get(tp);
                List<ConsumerRecord<byte[], byte[]>> fromKafka = new ArrayList<>();
                while (consumer.position(tp) < end)
                    fromKafka.addAll(consumer.poll(Duration.ofMillis(200)).records(tp));
                List<ConsumerRecord<byte[], byte[]>> fromArchive = new ArrayList<>();
                try (ArchiveCursor cursor = archive.cursor(p, 0)) {
                    for (var r = cursor.next(); r != null; r = cursor.next()) fromArchive.add(r);
                }
                assertThat(fromArchive).as("partition %d: archived records", p).hasSameSizeAs(fromKafka);
                for (int i = 0; i < fromKafka.size(); i++) {
                    var k = fromKafka.get(i);
                    var a = fromArchive.get(i);
                    assertThat(a.offset()).isEqualTo(k.offset());
                    assertThat(a.timestamp()).isEqualTo(k.timestamp());
                    assertThat(a.timestampType()).isEqualTo(k.timestampType());
                    assertThat(a.key()).isEqualTo(k.key());
                    assertThat(a.value()).isEqualTo(k.value());
                    assertThat(a.headers().toArray()).isEqualTo(k.headers().toArray());
                }
            }
        }
    }

    /** Lowers the topic's retention below the old events' age and waits until Kafka has deleted them. */
    private void deleteHistoryFromKafka() throws Exception {
        try (Admin admin = kafka.admin()) {
            admin.incrementalAlterConfigs(Map.of(
                            new ConfigResource(ConfigResource.Type.TOPIC, topic),
                            List.of(new AlterConfigOp(
                                    new ConfigEntry(
                                            "retention.ms",
                                            "" + Duration.ofDays(1).toMillis()),
                                    AlterConfigOp.OpType.SET))))
                    .all()
                    .get();
        }
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) partitions.add(new TopicPartition(topic, p));
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        var beginning = consumer.beginningOffsets(partitions);
                        for (TopicPartition tp : partitions)
                            if (beginning.get(tp) < recentStart.get(tp.partition())) return false;
                        return true;
                    });
        }
    }

    private void backfillAndAssertExactlyOnce(Sluice sluice) {
        JsonNode dry = backfill(sluice, true);
        assertThat(dry.get("events").asLong())
                .as("dry run: the archived part and Kafka's part of the window")
                .isEqualTo(window.size());
        long backfill = backfill(sluice, false).get("id").asLong();
        await().atMost(Duration.ofSeconds(240))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> "done"
                        .equals(parse(Http.request(
                                                "GET",
                                                sluice.adminUrl() + "/admin/backfills/" + backfill,
                                                "Authorization",
                                                "Bearer " + token)
                                        .body())
                                .get("status")
                                .asText()));
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> hook.accepted().size() >= window.size());
        Map<String, Integer> accepted = hook.accepted();
        assertThat(accepted.keySet())
                .as("exactly the window, nothing before it")
                .isEqualTo(window);
        assertThat(accepted.values()).as("each event once").containsOnly(1);
    }

    private JsonNode backfill(Sluice sluice, boolean dryRun) {
        var response = post(
                sluice.adminUrl() + "/admin/syncs/to-hook/backfill",
                "{\"from\":\"" + T1 + "\",\"rate\":100000,\"dryRun\":" + dryRun + "}",
                "Authorization",
                "Bearer " + token);
        assertThat(response.statusCode()).as(response.body()).isIn(200, 201);
        return parse(response.body());
    }

    private Map<TopicPartition, Long> endOffsets() {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) partitions.add(new TopicPartition(topic, p));
            return consumer.endOffsets(partitions);
        }
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        return new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (Exception e) {
            throw new AssertionError(body, e);
        }
    }
}
