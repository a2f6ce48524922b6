package io.sluice.destination.webhook;

import static org.awaitility.Awaitility.await;

import io.sluice.destination.webhook.BadWebhookRig.Accepted;
import io.sluice.destination.webhook.BadWebhookRig.BlackHole;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One of the bad webhook modes, on a real 127.0.0.1 port: where the bad destination points, how it starts
 * answering ({@link #recover}), and the most requests it saw at once. Refused and black-holed endpoints recover by a
 * receiver binding their port; scripted ones by a new script; the 30 % and flaky ones answer on their own.
 */
final class BadEndpoint implements AutoCloseable {
    static final String[] MODES = {
        "refused", "black hole", "slow 5 s", "100% 500", "30% 500", "429 Retry-After: 2", "flaky"
    };

    private final String mode;
    private final Accepted accepted;
    private final int port;
    private BlackHole hole;
    private TestReceiver receiver;

    BadEndpoint(String mode, Accepted accepted) throws IOException {
        this.mode = mode;
        this.accepted = accepted;
        switch (mode) {
            case "refused" -> {
                try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    port = closed.getLocalPort(); // closed at once: connections are refused
                }
            }
            case "black hole" -> {
                hole = new BlackHole();
                port = hole.port();
            }
            default -> {
                receiver = new TestReceiver();
                receiver.answer(script(mode, accepted));
                port = Integer.parseInt(receiver.url().replaceAll(".*:(\\d+)/hook", "$1"));
            }
        }
    }

    private static Function<TestReceiver.Request, TestReceiver.Reply> script(String mode, Accepted accepted) {
        AtomicInteger arrivals = new AtomicInteger();
        Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        return switch (mode) {
            case "slow 5 s" -> accepted.record(r -> TestReceiver.Reply.ok().after(Duration.ofSeconds(5)));
            case "100% 500" -> r -> TestReceiver.Reply.status(500).body("broken");
            // 3 of every 10 requests fail (by arrival), the rest are accepted: it never recovers fully
            case "30% 500" ->
                accepted.record(r -> arrivals.incrementAndGet() % 10 < 3
                        ? TestReceiver.Reply.status(500).body("sometimes")
                        : TestReceiver.Reply.ok());
            case "429 Retry-After: 2" -> r -> TestReceiver.Reply.status(429).header("Retry-After", "2");
            // the flaky receiver: each event's first attempt 500, its second 429 + Retry-After: 1, then 200
            case "flaky" ->
                accepted.record(
                        r -> switch (attempts.computeIfAbsent(r.header("Idempotency-Key"), k -> new AtomicInteger())
                                .incrementAndGet()) {
                            case 1 -> TestReceiver.Reply.status(500).body("flaky");
                            case 2 -> TestReceiver.Reply.status(429).header("Retry-After", "1");
                            default -> TestReceiver.Reply.ok();
                        });
            default -> throw new IllegalArgumentException(mode);
        };
    }

    String url() {
        return "http://127.0.0.1:" + port + "/hook";
    }

    /** The bad destination's request timeout: the slow receiver answers within it, the black hole never does. */
    Duration timeout() {
        return mode.equals("slow 5 s") ? Duration.ofSeconds(10) : Duration.ofSeconds(2);
    }

    /** Starts answering 200 to everything (recorded). */
    void recover() {
        switch (mode) {
            case "refused", "black hole" -> {
                try {
                    if (hole != null) hole.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                // the port was just closed: bind it as soon as the kernel lets us
                await().atMost(Duration.ofSeconds(10))
                        .ignoreExceptionsInstanceOf(UncheckedIOException.class)
                        .until(() -> {
                            receiver = new TestReceiver(port);
                            return true;
                        });
                receiver.answer(accepted.record(r -> TestReceiver.Reply.ok()));
            }
            case "slow 5 s", "100% 500", "429 Retry-After: 2" ->
                receiver.answer(accepted.record(r -> TestReceiver.Reply.ok()));
            default -> {} // answers on its own
        }
    }

    /** Most requests (connections, for the black hole) the endpoint held at once. */
    int maxConcurrent() {
        int most = receiver == null ? 0 : receiver.maxConcurrent();
        return Math.max(most, hole == null ? 0 : hole.maxOpen());
    }

    /** Whether the bad destination really called it (the refused port is only known to have been tried by its log). */
    boolean called() {
        return mode.equals("refused")
                || (hole != null ? hole.accepted() > 0 : !receiver.requests().isEmpty());
    }

    @Override
    public void close() throws IOException {
        if (hole != null) hole.close();
        if (receiver != null) receiver.close();
    }
}
