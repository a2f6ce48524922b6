package io.sluice.support;

import static org.awaitility.Awaitility.await;

import io.sluice.embedded.FreePort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Uuid;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real multi-node KRaft cluster, each node (broker + controller) its own JVM process started with
 * {@code java -cp <test classpath> kafka.Kafka server.properties}, so that nodes can be SIGKILLed, stopped and
 * restarted on the same ports and data. Failure detection is tuned (see {@link #TUNING}) and documented in
 * docs/reliability.md: it bounds how long a dead broker's partitions stay without a leader.
 */
public final class BrokerCluster implements AutoCloseable {
    /** Broker/controller settings that bound the leader election window after a node dies (defaults in brackets). */
    public static final Map<String, String> TUNING = Map.of(
            "broker.heartbeat.interval.ms", "500", // [2000]
            "broker.session.timeout.ms", "3000", // [9000] a silent broker is fenced (and loses leadership) after this
            "controller.quorum.fetch.timeout.ms", "1500", // [2000] a silent quorum leader is noticed after this
            "controller.quorum.election.timeout.ms", "1000", // [1000]
            "replica.lag.time.max.ms", "10000"); // [30000] a stuck (not dead) follower leaves the ISR after this

    private final Path dir;
    private final int[] brokerPorts;
    private final int[] controllerPorts;
    private final Process[] processes;
    private final UnaryOperator<Properties> customise;
    private final String clusterId = Uuid.randomUuid().toString();

    private BrokerCluster(Path dir, int nodes, UnaryOperator<Properties> customise) {
        this.dir = dir;
        this.customise = customise;
        brokerPorts = new int[nodes];
        controllerPorts = new int[nodes];
        processes = new Process[nodes];
        for (int i = 0; i < nodes; i++) {
            brokerPorts[i] = FreePort.find();
            controllerPorts[i] = FreePort.find();
        }
    }

    /** Starts {@code nodes} nodes (ids 1..n) and waits until all are registered. */
    public static BrokerCluster start(Path dir, int nodes) {
        return start(dir, nodes, p -> p);
    }

    /** @param customise may change each node's properties (e.g. its log.dirs) before it is formatted and started */
    public static BrokerCluster start(Path dir, int nodes, UnaryOperator<Properties> customise) {
        BrokerCluster cluster = new BrokerCluster(dir, nodes, customise);
        try {
            for (int id = 1; id <= nodes; id++) cluster.format(id);
            for (int id = 1; id <= nodes; id++) cluster.launch(id);
            cluster.awaitBrokers(nodes, Duration.ofSeconds(120));
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    public String bootstrapServers() {
        List<String> hosts = new ArrayList<>();
        for (int port : brokerPorts) hosts.add("127.0.0.1:" + port);
        return String.join(",", hosts);
    }

    public int size() {
        return processes.length;
    }

    public int brokerPort(int id) {
        return brokerPorts[id - 1];
    }

    public Path nodeDir(int id) {
        return dir.resolve("node-" + id);
    }

    /** SIGKILL: no controlled shutdown, no flush, no leadership hand-over. */
    public void kill(int id) throws InterruptedException {
        Process p = processes[id - 1];
        if (p == null) return;
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        processes[id - 1] = null;
    }

    public boolean alive(int id) {
        return processes[id - 1] != null && processes[id - 1].isAlive();
    }

    /** Starts a killed node again on the same ports and data. */
    public void restart(int id) {
        if (alive(id)) return;
        launch(id);
    }

    /** Node id -> partitions of {@code topic} it leads (nodes without leadership omitted). */
    public Map<Integer, Long> leaders(String topic) {
        return describe(topic).partitions().stream()
                .filter(p -> p.leader() != null && !p.leader().isEmpty())
                .collect(Collectors.groupingBy(p -> p.leader().id(), Collectors.counting()));
    }

    /** The node leading the most partitions of {@code topic}. */
    public int busiestLeader(String topic) {
        return leaders(topic).entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .orElseThrow()
                .getKey();
    }

    /** Whether every partition of {@code topic} has all {@link #size()} replicas in sync. */
    public boolean fullyInSync(String topic) {
        try {
            return describe(topic).partitions().stream().allMatch(p -> p.isr().size() == processes.length);
        } catch (RuntimeException e) {
            return false;
        }
    }

    public TopicDescription describe(String topic) {
        try (Admin admin = admin()) {
            return admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(10, TimeUnit.SECONDS)
                    .get(topic);
        } catch (Exception e) {
            throw new IllegalStateException("describe " + topic + ": " + e, e);
        }
    }

    public Admin admin() {
        return Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                5000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                10000));
    }

    public String log(int id) {
        try {
            Path log = nodeDir(id).resolve("broker.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private Properties properties(int id) {
        String voters = IntStream.rangeClosed(1, processes.length)
                .mapToObj(n -> n + "@127.0.0.1:" + controllerPorts[n - 1])
                .collect(Collectors.joining(","));
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(id));
        p.put("controller.quorum.voters", voters);
        p.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + brokerPorts[id - 1] + ",CONTROLLER://127.0.0.1:" + controllerPorts[id - 1]);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPorts[id - 1]);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", nodeDir(id).resolve("logs").toString());
        p.put("metadata.log.dir", nodeDir(id).resolve("metadata").toString());
        int rf = Math.min(3, processes.length);
        p.put("offsets.topic.replication.factor", String.valueOf(rf));
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", String.valueOf(rf));
        p.put("transaction.state.log.min.isr", String.valueOf(Math.max(1, rf - 1)));
        p.put("share.coordinator.state.topic.replication.factor", String.valueOf(rf));
        p.put("share.coordinator.state.topic.min.isr", String.valueOf(Math.max(1, rf - 1)));
        // Deliberately unsafe cluster defaults: Sluice must set replication on its topics itself.
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("num.replica.fetchers", "1");
        p.put("background.threads", "2");
        p.putAll(TUNING);
        return customise.apply(p);
    }

    private Path propertiesFile(int id) {
        return nodeDir(id).resolve("server.properties");
    }

    private void format(int id) {
        try {
            Files.createDirectories(nodeDir(id));
            try (var out = Files.newBufferedWriter(propertiesFile(id))) {
                properties(id).store(out, "BrokerCluster node " + id);
            }
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            int rc = StorageTool.execute(
                    new String[] {
                        "format", "-t", clusterId, "-c", propertiesFile(id).toString(), "--ignore-formatted"
                    },
                    new PrintStream(output, true, StandardCharsets.UTF_8));
            if (rc != 0)
                throw new IllegalStateException(
                        "kafka-storage format failed: " + output.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("format node " + id + ": " + e, e);
        }
    }

    private void launch(int id) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = List.of(
                java,
                "-Xmx320m",
                "-Xms64m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                "kafka.Kafka",
                propertiesFile(id).toString());
        try {
            processes[id - 1] = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(
                            nodeDir(id).resolve("broker.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until {@code count} brokers are registered and unfenced. */
    public void awaitBrokers(int count, Duration timeout) {
        AtomicReference<Exception> last = new AtomicReference<>();
        try (Admin admin = admin()) {
            await().atMost(timeout).pollInterval(Duration.ofMillis(300)).until(() -> {
                try {
                    if (admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size() >= count) return true;
                } catch (Exception e) {
                    last.set(e);
                }
                for (int id = 1; id <= processes.length; id++) {
                    if (processes[id - 1] != null && !processes[id - 1].isAlive()) {
                        throw new AssertionError("broker " + id + " exited:\n" + tail(log(id)));
                    }
                }
                return false;
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(
                    "cluster did not get " + count + " brokers within " + timeout + " (" + last.get() + ")");
        }
    }

    private static String tail(String text) {
        return text.length() <= 4000 ? text : text.substring(text.length() - 4000);
    }

    @Override
    public void close() {
        Map<Integer, Process> alive = new HashMap<>();
        for (int i = 0; i < processes.length; i++) if (processes[i] != null) alive.put(i + 1, processes[i]);
        alive.values().forEach(Process::destroyForcibly); // test data is thrown away: no need for a clean shutdown
        for (Process p : alive.values()) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
