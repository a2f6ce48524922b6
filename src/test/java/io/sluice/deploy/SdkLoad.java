package io.sluice.deploy;

import static org.awaitility.Awaitility.await;

import com.segment.analytics.Analytics;
import com.segment.analytics.Callback;
import com.segment.analytics.messages.Message;
import com.segment.analytics.messages.TrackMessage;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The official Segment Java SDK sending track events "Order Completed" to a collector port, {@code users} users in
 * turn, each event carrying its user's sequence number; it keeps what the SDK reported acknowledged or failed.
 */
final class SdkLoad implements AutoCloseable {
    record Result(Set<String> acknowledged, Queue<Throwable> failures) {}

    private final Analytics analytics;
    private final int users;
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final AtomicInteger enqueued = new AtomicInteger();
    private final Map<Integer, AtomicInteger> sequences = new ConcurrentHashMap<>();

    SdkLoad(int collectorPort, int users) {
        this.users = users;
        this.analytics = Analytics.builder(ContainerDeployment.WRITE_KEY)
                .endpoint("http://127.0.0.1:" + collectorPort)
                .flushInterval(1, TimeUnit.SECONDS)
                .retries(10)
                .callback(new Callback() {
                    @Override
                    public void success(Message message) {
                        acknowledged.add(message.messageId());
                    }

                    @Override
                    public void failure(Message message, Throwable error) {
                        failures.add(error);
                    }
                })
                .build();
    }

    /** Enqueues {@code events} more events. */
    void send(int events) {
        for (int i = 0; i < events; i++) {
            int n = enqueued.getAndIncrement();
            int user = n % users;
            int sequence =
                    sequences.computeIfAbsent(user, u -> new AtomicInteger()).getAndIncrement();
            analytics.enqueue(TrackMessage.builder("Order Completed")
                    .userId("user-" + user)
                    .messageId("deploy-" + n + "-" + UUID.randomUUID())
                    .properties(Map.of("sequence", sequence)));
        }
    }

    int settled() {
        return acknowledged.size() + failures.size();
    }

    /** Flushes and waits until the SDK has reported every enqueued event acknowledged or failed. */
    Result finish() {
        analytics.flush();
        await().atMost(Duration.ofMinutes(3)).until(() -> settled() >= enqueued.get());
        return new Result(Set.copyOf(acknowledged), failures);
    }

    @Override
    public void close() {
        analytics.shutdown();
    }
}
