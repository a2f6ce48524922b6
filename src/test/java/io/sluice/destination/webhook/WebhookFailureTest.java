package io.sluice.destination.webhook;

import static io.sluice.destination.webhook.Webhooks.batch;
import static io.sluice.destination.webhook.Webhooks.event;
import static io.sluice.destination.webhook.Webhooks.failedIds;
import static io.sluice.destination.webhook.Webhooks.messageId;
import static io.sluice.destination.webhook.Webhooks.settings;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.DeliveryReport.EventFailure;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which failures are retried, what the report says, and per-user order behind a failing event. */
class WebhookFailureTest {
    private final TestReceiver receiver = new TestReceiver();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private WebhookDestination destination;

    @AfterEach
    void close() {
        if (destination != null) destination.close();
        receiver.close();
    }

    private WebhookDestination destination(String... keys) {
        destination = Webhooks.destination(settings(receiver.url(), keys), registry, Clock.systemUTC());
        return destination;
    }

    @Test
    void serverErrorIsRetriableWithItsStatusAndABoundedSnippetOfTheBody() throws Exception {
        receiver.answer(r -> TestReceiver.Reply.status(500).body("boom ".repeat(2000)));

        DeliveryReport report = destination().deliver(batch(List.of(event("m1", "u1"))));

        EventFailure failure = report.failures().getFirst();
        assertThat(failure.error().isRetriable()).isTrue();
        assertThat(failure.statusCode()).isEqualTo(500);
        assertThat(failure.retryAfter()).isNull();
        assertThat(failure.error().getMessage()).startsWith("HTTP 500: boom boom");
        assertThat(failure.error().getMessage().length())
                .isLessThanOrEqualTo("HTTP 500: ".length() + WebhookClient.SNIPPET_CHARS);
        assertThat(registry.get("sluice.webhook.requests")
                        .tag("outcome", "5xx")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void tooManyRequestsHonoursRetryAfterSeconds() throws Exception {
        receiver.answer(r -> TestReceiver.Reply.status(429).header("Retry-After", "7"));

        EventFailure failure = destination()
                .deliver(batch(List.of(event("m1", "u1"))))
                .failures()
                .getFirst();

        assertThat(failure.error().isRetriable()).isTrue();
        assertThat(failure.statusCode()).isEqualTo(429);
        assertThat(failure.retryAfter()).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void aRequestTimeoutIsRetriable() throws Exception {
        receiver.answer(r -> TestReceiver.Reply.ok().after(Duration.ofSeconds(5)));
        long started = System.nanoTime();

        EventFailure failure = destination("timeout: 300ms")
                .deliver(batch(List.of(event("m1", "u1"))))
                .failures()
                .getFirst();

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        assertThat(failure.error().isRetriable()).isTrue();
        assertThat(failure.error().getMessage()).contains("timed out");
        assertThat(failure.statusCode()).isNull();
        assertThat(registry.get("sluice.webhook.requests")
                        .tag("outcome", "timeout")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void aResponseBodyTricklingPastTheTimeoutIsATimeoutToo() throws Exception {
        receiver.answer(r -> TestReceiver.Reply.status(200).stallingBody(Duration.ofSeconds(10)));
        long started = System.nanoTime();

        EventFailure failure = destination("timeout: 500ms")
                .deliver(batch(List.of(event("m1", "u1"))))
                .failures()
                .getFirst();

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        assertThat(failure.error().isRetriable()).isTrue();
        assertThat(failure.error().getMessage()).contains("timed out");
    }

    @Test
    void anUnreachableReceiverIsRetriable() throws Exception {
        String url = receiver.url();
        receiver.close(); // nothing listens there any more
        destination = Webhooks.destination(settings(url), registry, Clock.systemUTC());

        EventFailure failure = destination
                .deliver(batch(List.of(event("m1", "u1"))))
                .failures()
                .getFirst();

        assertThat(failure.error().isRetriable()).isTrue();
        assertThat(failure.error().getMessage()).startsWith("unreachable");
        assertThat(failure.error().failureClass()).isEqualTo(FailureClass.UNREACHABLE);
    }

    @Test
    void aBadRequestFailsOnlyThatEventPermanentlyAndTheOthersOfTheSameUserStillGo() throws Exception {
        receiver.answer(r -> messageId(r).equals("m3")
                ? TestReceiver.Reply.status(400).body("{\"error\":\"bad revenue\"}")
                : TestReceiver.Reply.ok());
        List<DeliveryReport.EventFailure> failures = destination()
                .deliver(batch(IntStream.rangeClosed(1, 5)
                        .mapToObj(i -> event("m" + i, "u1"))
                        .toList()))
                .failures();

        assertThat(failures).hasSize(1);
        EventFailure failure = failures.getFirst();
        assertThat(failure.event().path("messageId").asText()).isEqualTo("m3");
        assertThat(failure.error().isRetriable()).isFalse();
        assertThat(failure.error().messageId()).isEqualTo("m3");
        assertThat(failure.statusCode()).isEqualTo(400);
        assertThat(failure.error().getMessage()).isEqualTo("HTTP 400: {\"error\":\"bad revenue\"}");
        assertThat(receiver.requests().stream().map(Webhooks::messageId)).containsExactly("m1", "m2", "m3", "m4", "m5");
    }

    @Test
    void laterEventsOfAUserWaitBehindItsRetriableFailureWhileOtherUsersFlow() throws Exception {
        receiver.answer(r -> messageId(r).equals("a2") ? TestReceiver.Reply.status(500) : TestReceiver.Reply.ok());
        DeliveryBatch batch = batch(List.of(
                event("a1", "A"),
                event("b1", "B"),
                event("a2", "A"),
                event("b2", "B"),
                event("a3", "A"),
                event("b3", "B"),
                event("x1", null)));

        DeliveryReport report = destination().deliver(batch);

        assertThat(failedIds(report)).containsExactly("a2", "a3");
        EventFailure held = report.failures().get(1);
        assertThat(held.error().isRetriable()).isTrue();
        assertThat(held.error().getMessage()).startsWith("held behind a2");
        assertThat(held.statusCode()).isNull();
        List<String> received =
                receiver.requests().stream().map(Webhooks::messageId).toList();
        assertThat(received).containsExactlyInAnyOrder("a1", "a2", "b1", "b2", "b3", "x1");
        assertThat(received.stream().filter(id -> id.startsWith("a"))).containsExactly("a1", "a2");
        assertThat(received.stream().filter(id -> id.startsWith("b"))).containsExactly("b1", "b2", "b3");

        receiver.answer(r -> TestReceiver.Reply.ok());
        DeliveryBatch retry = new DeliveryBatch(
                batch.syncId(),
                batch.sourceId(),
                batch.origin(),
                report.failures().stream().map(EventFailure::event).toList(),
                null);
        assertThat(destination.deliver(retry).allDelivered()).isTrue();
        assertThat(receiver.requests().stream().map(Webhooks::messageId).filter(id -> id.startsWith("a")))
                .as("user A's order across the retry")
                .containsExactly("a1", "a2", "a2", "a3");
    }

    @Test
    void withoutOrderPerUserLaterEventsOfAFailingUserAreStillSent() throws Exception {
        receiver.answer(r -> messageId(r).equals("a2") ? TestReceiver.Reply.status(503) : TestReceiver.Reply.ok());

        DeliveryReport report = destination("orderPerUser: false")
                .deliver(batch(List.of(event("a1", "A"), event("a2", "A"), event("a3", "A"))));

        assertThat(failedIds(report)).containsExactly("a2");
        assertThat(receiver.requests().stream().map(Webhooks::messageId)).containsExactlyInAnyOrder("a1", "a2", "a3");
    }

    @Test
    void aFailedChunkFailsItsEventsAndHoldsTheLaterChunksInBatchMode() throws Exception {
        DeliveryBatch batch = batch(
                IntStream.range(0, 7).mapToObj(i -> event("m" + i, "u" + i)).toList());
        receiver.answer(r ->
                r.header("Idempotency-Key").endsWith("-1") ? TestReceiver.Reply.status(502) : TestReceiver.Reply.ok());

        DeliveryReport report = destination("mode: batch", "maxBatchEvents: 3").deliver(batch);

        assertThat(failedIds(report)).containsExactly("m3", "m4", "m5", "m6");
        assertThat(report.failures())
                .allSatisfy(f -> assertThat(f.error().isRetriable()).isTrue());
        assertThat(report.failures().get(0).statusCode()).isEqualTo(502);
        assertThat(report.failures().get(3).error().getMessage()).startsWith("held behind chunk 1");
        assertThat(receiver.requests()).hasSize(2);
    }

    @Test
    void aPermanentlyRefusedChunkDoesNotHoldTheNextOne() throws Exception {
        DeliveryBatch batch = batch(
                IntStream.range(0, 6).mapToObj(i -> event("m" + i, "u" + i)).toList());
        receiver.answer(r ->
                r.header("Idempotency-Key").endsWith("-0") ? TestReceiver.Reply.status(422) : TestReceiver.Reply.ok());

        DeliveryReport report = destination("mode: batch", "maxBatchEvents: 3").deliver(batch);

        assertThat(failedIds(report)).containsExactly("m0", "m1", "m2");
        assertThat(report.failures())
                .allSatisfy(f -> assertThat(f.error().isRetriable()).isFalse());
        assertThat(receiver.requests()).hasSize(2);
    }
}
