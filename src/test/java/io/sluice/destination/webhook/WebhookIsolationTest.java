package io.sluice.destination.webhook;

import static io.sluice.destination.webhook.Webhooks.batch;
import static io.sluice.destination.webhook.Webhooks.event;
import static io.sluice.destination.webhook.Webhooks.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.support.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Circuit breaker, rate limit and concurrency limit, and one destination's trouble not touching another. */
class WebhookIsolationTest {
    private final TestReceiver receiver = new TestReceiver();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing.reversed()) c.close();
        receiver.close();
    }

    private WebhookDestination destination(TestReceiver at, Clock clock, String... keys) {
        WebhookDestination destination = Webhooks.destination(settings(at.url(), keys), registry, clock);
        closing.add(destination);
        return destination;
    }

    private double circuitGauge() {
        return registry.get("sluice.webhook.circuit.state")
                .tag("destination", "hooks")
                .gauge()
                .value();
    }

    @Test
    void theCircuitOpensAtAHighErrorRateFailsFastWithoutUsingAttemptsAndProbesAfterTheCoolDown() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
        WebhookDestination destination = destination(
                receiver,
                clock,
                "circuitBreaker: {window: 4, minimumCalls: 3, errorRate: 90, probes: 2, coolDown: 30s}");
        receiver.answer(r -> TestReceiver.Reply.status(500));
        for (int i = 0; i < 3; i++) {
            assertThat(destination
                            .deliver(batch(List.of(event("f" + i, "u" + i))))
                            .failures()
                            .getFirst()
                            .statusCode())
                    .isEqualTo(500);
        }
        assertThat(circuitGauge()).as("3 of 3 answers were errors").isEqualTo(1.0);

        EventFailure fast =
                destination.deliver(batch(List.of(event("x1", "u")))).failures().getFirst();
        assertThat(receiver.requests())
                .as("fails fast without calling the receiver")
                .hasSize(3);
        assertThat(fast.error().isRetriable()).isTrue();
        assertThat(fast.error().failureClass()).isEqualTo(FailureClass.NOT_SENT);
        assertThat(fast.error().usesAttempt())
                .as("a request never sent uses no attempt")
                .isFalse();
        assertThat(fast.error().getMessage()).contains("circuit is open");
        assertThat(fast.statusCode()).isNull();
        assertThat(fast.retryAfter()).isEqualTo(Duration.ofSeconds(30));
        clock.tick(Duration.ofSeconds(29));
        assertThat(destination.deliver(batch(List.of(event("x2", "u")))).allDelivered())
                .isFalse();
        assertThat(receiver.requests()).hasSize(3);
        assertThat(registry.get("sluice.webhook.rejected")
                        .tag("reason", "circuit_open")
                        .counter()
                        .count())
                .isEqualTo(2);

        clock.tick(Duration.ofSeconds(2));
        assertThat(destination
                        .deliver(batch(List.of(event("p1", "u1"), event("p2", "u2"))))
                        .failures())
                .as("two probes go out; both fail: open again")
                .hasSize(2);
        assertThat(receiver.requests()).hasSize(5);
        assertThat(circuitGauge()).isEqualTo(1.0);
        assertThat(destination.deliver(batch(List.of(event("x3", "u")))).allDelivered())
                .isFalse();
        assertThat(receiver.requests()).hasSize(5);

        receiver.answer(r -> TestReceiver.Reply.ok());
        clock.tick(Duration.ofSeconds(31));
        assertThat(destination
                        .deliver(batch(List.of(event("p3", "u1"), event("p4", "u2"))))
                        .allDelivered())
                .as("the probes succeed")
                .isTrue();
        assertThat(circuitGauge()).isEqualTo(0.0);
        assertThat(destination
                        .deliver(batch(IntStream.range(0, 4)
                                .mapToObj(i -> event("ok" + i, "v" + i))
                                .toList()))
                        .allDelivered())
                .isTrue();
        assertThat(receiver.requests()).hasSize(11);
    }

    @Test
    void aRequestRateLimitBoundsRequestsPerSecond() throws Exception {
        WebhookDestination destination =
                destination(receiver, Clock.systemUTC(), "rateLimit: 20/s", "maxConcurrency: 8");
        long started = System.nanoTime();

        DeliveryReport report = destination.deliver(batch(
                IntStream.range(0, 30).mapToObj(i -> event("m" + i, "u" + i)).toList()));

        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(report.allDelivered()).isTrue();
        assertThat(took).as("30 requests at 20/s").isBetween(Duration.ofMillis(1100), Duration.ofSeconds(10));
        List<Long> arrivals = receiver.requests().stream()
                .map(TestReceiver.Request::arrivedNanos)
                .sorted()
                .toList();
        int busiestSecond = 0;
        for (int i = 0; i < arrivals.size(); i++) {
            int j = i;
            while (j < arrivals.size() && arrivals.get(j) - arrivals.get(i) < 1_000_000_000L) j++;
            busiestSecond = Math.max(busiestSecond, j - i);
        }
        assertThat(busiestSecond).isBetween(15, 24);
    }

    @Test
    void anEventRateLimitCountsTheEventsOfEachRequest() throws Exception {
        WebhookDestination destination = destination(
                receiver, Clock.systemUTC(), "rateLimit: 100 events/s", "mode: batch", "maxBatchEvents: 10");
        long started = System.nanoTime();

        assertThat(destination
                        .deliver(batch(IntStream.range(0, 50)
                                .mapToObj(i -> event("m" + i, "u"))
                                .toList()))
                        .allDelivered())
                .isTrue();

        assertThat(receiver.requests()).hasSize(5);
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .as("50 events at 100/s")
                .isGreaterThan(Duration.ofMillis(350));
    }

    @Test
    void maxConcurrencyBoundsRequestsInFlightAcrossConcurrentDeliveries() throws Exception {
        receiver.answer(r -> TestReceiver.Reply.ok().after(Duration.ofMillis(150)));
        WebhookDestination destination = destination(receiver, Clock.systemUTC(), "maxConcurrency: 3");
        List<CompletableFuture<DeliveryReport>> deliveries = IntStream.range(0, 2)
                .mapToObj(d -> CompletableFuture.supplyAsync(() -> {
                    try {
                        return destination.deliver(batch(IntStream.range(0, 6)
                                .mapToObj(i -> event(d + "-" + i, d + "u" + i))
                                .toList()));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }))
                .toList();

        await().atMost(Duration.ofSeconds(5)).until(() -> receiver.requests().size() >= 2);
        assertThat(registry.get("sluice.webhook.in.flight")
                        .tag("destination", "hooks")
                        .gauge()
                        .value())
                .isBetween(1.0, 3.0);
        assertThat(deliveries)
                .allSatisfy(d -> assertThat(d.get().allDelivered()).isTrue());

        assertThat(receiver.requests()).hasSize(12);
        assertThat(receiver.maxConcurrent()).isEqualTo(3);
        assertThat(registry.get("sluice.webhook.in.flight")
                        .tag("destination", "hooks")
                        .gauge()
                        .value())
                .isZero();
    }

    @Test
    void waitingForARequestSlotIsBoundedAndReportedAsRetriable() throws Exception {
        receiver.answer(r -> TestReceiver.Reply.ok().after(Duration.ofSeconds(2)));
        WebhookDestination destination = new WebhookDestination(
                WebhookSettings.from(settings(receiver.url(), "maxConcurrency: 1"))
                        .withMaxWait(Duration.ofMillis(300)),
                registry,
                Clock.systemUTC());
        closing.add(destination);

        DeliveryReport report = destination.deliver(batch(List.of(event("a1", "A"), event("b1", "B"))));

        assertThat(report.failures()).hasSize(1);
        EventFailure busy = report.failures().getFirst();
        assertThat(busy.error().isRetriable()).isTrue();
        assertThat(busy.error().getMessage()).contains("request slots stayed busy");
        assertThat(receiver.requests()).hasSize(1);
        assertThat(registry.get("sluice.webhook.rejected")
                        .tag("reason", "busy")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void deliveriesDoNotDependOnTheCommonForkJoinPool() throws Exception {
        WebhookDestination destination = destination(receiver, Clock.systemUTC());
        int parallelism = ForkJoinPool.getCommonPoolParallelism();
        CountDownLatch release = new CountDownLatch(1);
        List<CompletableFuture<Void>> blockers = IntStream.range(0, parallelism)
                .mapToObj(i -> CompletableFuture.runAsync(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }))
                .toList();
        try {
            long started = System.nanoTime();
            assertThat(destination
                            .deliver(batch(IntStream.range(0, 4)
                                    .mapToObj(i -> event("m" + i, "u" + i))
                                    .toList()))
                            .allDelivered())
                    .isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
        } finally {
            release.countDown();
            blockers.forEach(CompletableFuture::join);
        }
    }

    @Test
    void aHangingDestinationDoesNotSlowAnother() throws Exception {
        TestReceiver hanging = new TestReceiver();
        closing.add(hanging);
        hanging.answer(r -> TestReceiver.Reply.ok().after(Duration.ofSeconds(30)));
        WebhookDestination stuck = Webhooks.destination(
                settings(hanging.url(), "timeout: 20s", "maxConcurrency: 2"), registry, Clock.systemUTC());
        closing.add(stuck);
        WebhookDestination healthy = Webhooks.destination(
                settings(receiver.url(), "maxConcurrency: 2"), new SimpleMeterRegistry(), Clock.systemUTC());
        closing.add(healthy);
        Thread blocked = Thread.ofVirtual().start(() -> {
            try {
                stuck.deliver(batch(IntStream.range(0, 20)
                        .mapToObj(i -> event("s" + i, "s" + i))
                        .toList()));
            } catch (InterruptedException e) {
                // the test ends it
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> hanging.requests().size() == 2);

        long slowest = 0;
        for (int round = 0; round < 10; round++) {
            long started = System.nanoTime();
            assertThat(healthy.deliver(batch(IntStream.range(0, 5)
                                    .mapToObj(i -> event("h" + i, "h" + i))
                                    .toList()))
                            .allDelivered())
                    .isTrue();
            slowest = Math.max(slowest, System.nanoTime() - started);
        }

        assertThat(Duration.ofNanos(slowest)).isLessThan(Duration.ofSeconds(1));
        assertThat(receiver.requests()).hasSize(50);
        assertThat(hanging.requests()).as("still stuck on its own two slots").hasSize(2);
        blocked.interrupt();
        blocked.join(Duration.ofSeconds(10));
        assertThat(blocked.isAlive()).isFalse();
    }
}
