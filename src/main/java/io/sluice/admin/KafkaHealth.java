package io.sluice.admin;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Whether the Kafka cluster answers. The answer is cached briefly so that frequent probes from a load balancer
 * do not become load on the brokers.
 */
public final class KafkaHealth implements AutoCloseable {
    public record Status(boolean reachable, String detail) {}

    private static final Duration CACHE_FOR = Duration.ofSeconds(1);
    private final Admin admin;
    private Status last;
    private long checkedAtNanos;

    public KafkaHealth(String bootstrapServers) {
        this.admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, "sluice-health",
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000));
    }

    public synchronized Status check() {
        if (last != null && System.nanoTime() - checkedAtNanos < CACHE_FOR.toNanos()) return last;
        Status status;
        try {
            int brokers = admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).size();
            status = brokers > 0 ? new Status(true, brokers + " broker(s) reachable") : new Status(false, "no brokers");
        } catch (Exception e) {
            status = new Status(false, "unreachable: " + e.getClass().getSimpleName());
        }
        last = status;
        checkedAtNanos = System.nanoTime();
        return status;
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(1));
    }
}
