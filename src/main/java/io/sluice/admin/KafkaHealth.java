package io.sluice.admin;

import io.sluice.kafka.KafkaClients;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Whether requests can be acknowledged: with an events topic, every partition of it must have a leader and at least
 * min.insync.replicas in-sync replicas on brokers this process reaches right now (see {@link PartitionWritability}:
 * cluster metadata alone stays stale while the controller quorum is lost). Without one, whether any broker answers.
 * The answer is cached briefly so that frequent probes from a load balancer do not become load on the brokers.
 */
public final class KafkaHealth implements AutoCloseable {
    public record Status(boolean reachable, String detail) {}

    private static final Duration CACHE_FOR = Duration.ofSeconds(1);
    private final Admin admin;
    private final PartitionWritability writability;
    private Status last;
    private long checkedAtNanos;

    public KafkaHealth(KafkaClients clients) {
        this(clients, null);
    }

    /** @param eventsTopic the topic whose partitions must all be writable; null: brokers reachable is enough */
    public KafkaHealth(KafkaClients clients, String eventsTopic) {
        this.admin = clients.admin(Map.of(
                AdminClientConfig.CLIENT_ID_CONFIG, "sluice-health",
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000,
                AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 250));
        this.writability = eventsTopic == null ? null : new PartitionWritability(admin, eventsTopic);
    }

    public synchronized Status check() {
        if (last != null && System.nanoTime() - checkedAtNanos < CACHE_FOR.toNanos()) return last;
        Status status;
        try {
            if (writability != null) {
                status = writability.check();
            } else {
                int brokers =
                        admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).size();
                status = brokers > 0
                        ? new Status(true, brokers + " broker(s) reachable")
                        : new Status(false, "no brokers");
            }
        } catch (Exception e) {
            status = new Status(false, "unreachable: " + e.getClass().getSimpleName());
        }
        last = status;
        checkedAtNanos = System.nanoTime();
        return status;
    }

    /** Broker ids, for messages. */
    static String ids(List<Integer> ids) {
        return ids.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(1));
    }
}
