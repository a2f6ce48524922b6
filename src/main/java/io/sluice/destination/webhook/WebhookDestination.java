package io.sluice.destination.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.destination.Destination;
import io.sluice.destination.UserErasure;
import io.sluice.event.ExactEvent;
import io.sluice.event.UserKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Type {@code webhook}: POSTs events as JSON (docs/webhooks.md).
 *
 * <p>{@code event} mode sends one request per event, its body the event's bytes as accepted ({@link ExactEvent}), with
 * {@code Idempotency-Key: <messageId>}, encoded ({@link IdempotencyKey}). A batch's events are
 * split into lanes, one per user ({@link UserKey}); lanes run concurrently on virtual threads, each lane in
 * order. With {@code orderPerUser}, once an event fails retriably the later events of its lane are not sent and are
 * reported as retriable failures held behind it, so a retry keeps the user's order. The report lists every failed
 * event; the others were delivered and are never sent again by this call.
 *
 * <p>{@code batch} mode sends JSON arrays of up to {@code maxBatchEvents} in order, each with
 * {@code Idempotency-Key: <batch key>-<chunk index>}. A failed chunk fails its events; after a retriable failure the
 * later chunks are held (reported, not sent).
 *
 * <p>Limits are per destination, shared by all concurrent deliveries: see {@link WebhookClient}.
 */
final class WebhookDestination implements Destination, UserErasure {
    private static final Logger log = LoggerFactory.getLogger(WebhookDestination.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final WebhookSettings settings;
    private final WebhookClient client;
    private final ThreadFactory laneThreads;

    private DeletionCall deletion; // null: no deletionUrl

    /** Privacy deletion requests call {@code deletionUrl} (docs/privacy.md). */
    WebhookDestination withDeletionUrl(String deletionUrl, Clock clock) {
        if (deletionUrl != null && !deletionUrl.isEmpty())
            deletion = new DeletionCall(java.net.URI.create(deletionUrl), settings, clock);
        return this;
    }

    @Override
    public boolean erases() {
        return deletion != null;
    }

    @Override
    public String erase(long requestId, java.util.Set<String> sourceIds, List<String> ids) throws Exception {
        if (deletion == null) throw new IllegalStateException("webhook " + settings.id() + " has no deletionUrl");
        return deletion.send(requestId, ids);
    }

    WebhookDestination(WebhookSettings settings, MeterRegistry registry, Clock clock) {
        this.settings = settings;
        this.client = new WebhookClient(settings, registry, clock);
        this.laneThreads = Thread.ofVirtual()
                .name("sluice-webhook-" + settings.id() + "-", 0)
                .factory();
    }

    @Override
    public void open() {
        log.info("Webhook destination {}: {}", settings.id(), settings.describe());
    }

    @Override
    public DeliveryReport deliver(DeliveryBatch batch) throws InterruptedException {
        if (batch.events().isEmpty()) return DeliveryReport.delivered();
        EventFailure[] failures = settings.batchMode() ? deliverChunks(batch) : deliverEvents(batch);
        List<EventFailure> failed =
                Arrays.stream(failures).filter(Objects::nonNull).toList();
        if (!failed.isEmpty()) {
            log.debug(
                    "Webhook destination {}: {} of {} events of batch {} (sync {}) failed, first: {}",
                    settings.id(),
                    failed.size(),
                    batch.events().size(),
                    batch.batchId(),
                    batch.syncId(),
                    failed.getFirst().error().getMessage());
        }
        return failed.isEmpty() ? DeliveryReport.delivered() : new DeliveryReport(failed);
    }

    /** Event mode: the failure of each event by position, null where delivered. */
    private EventFailure[] deliverEvents(DeliveryBatch batch) throws InterruptedException {
        List<ObjectNode> events = batch.events();
        EventFailure[] failures = new EventFailure[events.size()];
        List<List<Integer>> lanes = lanes(events);
        if (lanes.size() == 1) {
            deliverLane(batch, lanes.getFirst(), failures);
            return failures;
        }
        AtomicBoolean interrupted = new AtomicBoolean();
        try (ExecutorService executor = Executors.newThreadPerTaskExecutor(laneThreads)) {
            for (List<Integer> lane : lanes) {
                executor.execute(() -> {
                    try {
                        deliverLane(batch, lane, failures);
                    } catch (InterruptedException e) {
                        interrupted.set(true);
                    }
                });
            }
        } // waits for every lane; if this thread is interrupted meanwhile, interrupts them and still waits
        if (interrupted.get() || Thread.interrupted())
            throw new InterruptedException("delivery to " + settings.id() + " interrupted");
        return failures;
    }

    private void deliverLane(DeliveryBatch batch, List<Integer> lane, EventFailure[] failures)
            throws InterruptedException {
        EventFailure blocking = null;
        String blockingId = null;
        for (int index : lane) {
            ObjectNode event = batch.events().get(index);
            if (blocking != null) {
                failures[index] = new EventFailure(
                        event,
                        DeliveryException.of(
                                FailureClass.NOT_SENT,
                                "held behind " + blockingId + " ("
                                        + blocking.error().getMessage() + ")",
                                null),
                        null,
                        blocking.retryAfter());
                continue;
            }
            String messageId = text(event, "messageId");
            String key = messageId != null ? IdempotencyKey.of(messageId) : batch.idempotencyKey() + "-e" + index;
            WebhookClient.Outcome outcome;
            try {
                outcome = client.send(ExactEvent.bytes(event), key, 1); // the event as accepted, byte for byte
            } catch (RuntimeException e) {
                // Not the destination: a request that cannot be built from the event (e.g. an invalid header value) is
                // the event's data, a dead letter at once; anything else is our bug, retried within the policy.
                outcome = new WebhookClient.Outcome(Failures.classify(e), null, null);
            }
            if (outcome.delivered()) continue;
            DeliveryException error = outcome.error();
            if (!error.isRetriable()) error = error.forEvent(messageId);
            failures[index] = new EventFailure(event, error, outcome.statusCode(), outcome.retryAfter());
            if (error.isRetriable() && settings.orderPerUser()) {
                blocking = failures[index];
                blockingId = key;
            }
        }
    }

    /**
     * The events by user, each lane in batch order. Events without a user, and every event when order per user is
     * off, get a lane of their own.
     */
    private List<List<Integer>> lanes(List<ObjectNode> events) {
        Map<String, List<Integer>> byUser = new LinkedHashMap<>();
        List<List<Integer>> lanes = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            String user = settings.orderPerUser() ? UserKey.of(events.get(i)) : null;
            if (user == null) lanes.add(List.of(i));
            else
                byUser.computeIfAbsent(user, u -> {
                            List<Integer> lane = new ArrayList<>();
                            lanes.add(lane);
                            return lane;
                        })
                        .add(i);
        }
        return lanes;
    }

    /** Batch mode: chunks in order; a chunk's failure is its events' failure. */
    private EventFailure[] deliverChunks(DeliveryBatch batch) throws InterruptedException {
        List<ObjectNode> events = batch.events();
        EventFailure[] failures = new EventFailure[events.size()];
        WebhookClient.Outcome blocking = null;
        int blockingChunk = -1;
        for (int chunk = 0, from = 0; from < events.size(); chunk++, from += settings.maxBatchEvents()) {
            List<ObjectNode> part = events.subList(from, Math.min(events.size(), from + settings.maxBatchEvents()));
            WebhookClient.Outcome outcome;
            if (blocking != null) {
                outcome = new WebhookClient.Outcome(
                        DeliveryException.of(
                                FailureClass.NOT_SENT,
                                "held behind chunk " + blockingChunk + " ("
                                        + blocking.error().getMessage() + ")",
                                null),
                        null,
                        blocking.retryAfter());
            } else {
                ArrayNode array = MAPPER.createArrayNode();
                part.forEach(array::add);
                outcome = client.send(json(array), batch.idempotencyKey() + "-" + chunk, part.size());
                if (!outcome.delivered() && outcome.error().isRetriable()) {
                    blocking = outcome;
                    blockingChunk = chunk;
                }
            }
            if (outcome.delivered()) continue;
            for (int i = 0; i < part.size(); i++) {
                failures[from + i] =
                        new EventFailure(part.get(i), outcome.error(), outcome.statusCode(), outcome.retryAfter());
            }
        }
        return failures;
    }

    /** Both modes report single events as failed (a chunk's events in batch mode), so the worker's retry queue keeps users' order. */
    @Override
    public boolean deliversEventByEvent() {
        return true;
    }

    @Override
    public Duration unavailableFor() {
        return client.unavailableFor();
    }

    @Override
    public void close() {
        client.close();
    }

    private static String text(ObjectNode event, String field) {
        JsonNode value = event.get(field);
        if (value == null || !value.isValueNode() || value.isNull()) return null;
        String text = value.asText();
        return text.isEmpty() ? null : text;
    }

    private static byte[] json(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }
}
