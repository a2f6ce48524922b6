package io.sluice.embedded;

import io.sluice.kafka.KafkaClients;
import io.sluice.lifecycle.Service;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real Apache Kafka broker, single node in KRaft mode (combined broker + controller), running in-process
 * with its log directory under Sluice's dataDir. The cluster id is kept beside the logs so data survives
 * restarts. Only listens on 127.0.0.1.
 */
public final class EmbeddedKafka implements Service {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);

    private final Path dir;
    private final int port;
    private KafkaRaftServer server;

    public EmbeddedKafka(Path dir, int port) {
        this.dir = dir.toAbsolutePath().normalize();
        this.port = port == 0 ? FreePort.find() : port;
    }

    public synchronized void start() {
        if (server != null) return;
        try {
            Files.createDirectories(dir);
            Properties props = brokerProperties();
            format(props);
            server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server.startup();
            awaitReady();
            log.info("Embedded Kafka broker listening on {}", bootstrapServers());
        } catch (IOException e) {
            throw new UncheckedIOException("Embedded Kafka failed to start in " + dir, e);
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    @Override
    public synchronized void close() {
        if (server == null) return;
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            log.warn("Embedded Kafka did not shut down cleanly", e);
        } finally {
            server = null;
        }
    }

    private Properties brokerProperties() {
        int controllerPort = FreePort.find();
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.resolve("logs").toString());
        p.put("metadata.log.dir", dir.resolve("metadata").toString());
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "8");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        // the Kafka destination is transactional: 50 partitions (the default) take long to create on a small machine
        p.put("transaction.state.log.num.partitions", "8");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("log.retention.hours", "168");
        return p;
    }

    /** kafka-storage format, once: the cluster id is generated on first start and reused afterwards. */
    private void format(Properties props) throws IOException {
        Path idFile = dir.resolve("cluster.id");
        if (!Files.exists(idFile)) Files.writeString(idFile, Uuid.randomUuid().toString());
        String clusterId = Files.readString(idFile).strip();
        Path propsFile = dir.resolve("server.properties");
        try (var out = Files.newBufferedWriter(propsFile)) {
            props.store(out, "Written by Sluice for the embedded broker; regenerated at every start");
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int rc = StorageTool.execute(
                new String[] {"format", "-t", clusterId, "-c", propsFile.toString(), "--ignore-formatted"},
                new PrintStream(output, true, StandardCharsets.UTF_8));
        if (rc != 0) throw new IOException("kafka-storage format failed: " + output.toString(StandardCharsets.UTF_8));
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Admin admin = KafkaClients.plain(bootstrapServers())
                .admin(Map.of(
                        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                        5000,
                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                        5000))) {
            while (true) {
                try {
                    if (!admin.describeCluster()
                            .nodes()
                            .get(5, TimeUnit.SECONDS)
                            .isEmpty()) return;
                } catch (Exception e) {
                    if (System.nanoTime() > deadline)
                        throw new IllegalStateException("Embedded Kafka did not become ready", e);
                }
            }
        }
    }
}
