package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterKind;
import io.sluice.queue.FencedException;
import io.sluice.queue.QueueStore;
import io.sluice.queue.RetryEvent;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the queue database refuses to record a batch's outcome for what its events carry (a NUL the column cannot
 * hold, an id too long for its index: {@link FailureClass#EVENT_DATA}), or recording failed in a way nobody foresaw
 * ({@link FailureClass#INTERNAL}, after the recording's own retries), recording it again would fail the same way: the lease would expire, the batch rerun and its other
 * events be delivered again and again. Instead the batch is recorded dead with the reason, and every event it did not
 * deliver becomes a dead letter stored escaped (control characters and lone surrogates as {@code \\uXXXX}, an id over
 * 512 characters cut, the error saying so). Should even that be refused, the batch is recorded dead alone and the
 * events' ids are logged. Failures a retry can help are left to the lease, as before.
 *
 * <p>Either way the batch's fates go into the delivery accounting ({@link DeliveryTallies#fallback}: delivered,
 * dropped, discarded, and the rest dead-lettered), gathered in memory and flushed with the heartbeat's counts, so
 * received still equals the sum of fates and no transaction is added to any path.
 */
final class OutcomeFallback {
    private static final Logger log = LoggerFactory.getLogger(OutcomeFallback.class);
    private static final int LONGEST_ID = 512;

    private final QueueStore store;
    private final Clock clock;
    private final WorkerMetrics metrics;

    OutcomeFallback(QueueStore store, Clock clock, WorkerMetrics metrics) {
        this.store = store;
        this.clock = clock;
        this.metrics = metrics;
    }

    /** The dead batch's fates, in the accounting and the metrics the console's rates come from. */
    private void count(ClaimedBatch batch, BatchDelivery.Outcome outcome, int dead) {
        Instant now = clock.instant();
        metrics.tallies().fallback(batch.syncId(), outcome, dead, now);
        if (!outcome.delivered().isEmpty()) metrics.eventsDelivered(batch.syncId(), outcome.delivered(), now);
        metrics.deadLettered(batch.syncId());
        if (dead > 0) metrics.eventsDeadLettered(batch.syncId(), dead);
    }

    /** {@code refused}: why recording {@code outcome} failed. Never throws. */
    void recordDeadInstead(ClaimedBatch batch, BatchDelivery.Outcome outcome, Exception refused, Recorder recorder) {
        DeliveryException why = Failures.classify(refused);
        // Only what the events carry (or an unforeseen failure, already retried within half a lease) ends the batch:
        // a queue database that is down, read-only or refusing for its own reasons is waited for, as ever.
        if (why.failureClass() != FailureClass.EVENT_DATA && why.failureClass() != FailureClass.INTERNAL) {
            log.warn(
                    "Could not record the outcome of {} ({}); its lease will expire and it will be retried",
                    batch,
                    Failures.describeQueueDatabaseFailure(refused));
            return;
        }
        Instant now = clock.instant();
        String reason = "the queue database refused this batch's outcome (" + why.getMessage()
                + "); its undelivered events are stored escaped";
        List<DeadLetter> escaped = escapedLetters(batch, outcome, reason);
        try {
            recorder.retryingHiccups(batch, () -> store.deadLetter(batch, reason, now, List.of(), escaped));
            log.error("{}: {}; recorded dead, {} dead letters", batch, reason, escaped.size());
            count(batch, outcome, escaped.size());
            return;
        } catch (FencedException e) {
            log.warn("Abandoning {}: {}", batch, e.getMessage());
            return;
        } catch (Exception again) {
            log.error(
                    "{}: even its escaped dead letters were refused ({}); recording it dead alone",
                    batch,
                    again.toString());
        }
        try {
            recorder.retryingHiccups(batch, () -> store.deadLetter(batch, reason, now));
            log.error(
                    "{} recorded dead without its dead letters; undelivered messageIds: {}",
                    batch,
                    escaped.stream().map(DeadLetter::messageId).toList());
            // their fate is the dead batch (and the log): still counted, so the accounting adds up
            count(batch, outcome, escaped.size());
        } catch (FencedException e) {
            log.warn("Abandoning {}: {}", batch, e.getMessage());
        } catch (Exception e) {
            log.warn(
                    "Could not record {} dead ({}); its lease will expire",
                    batch,
                    Failures.describeQueueDatabaseFailure(e));
        }
    }

    private static List<DeadLetter> escapedLetters(ClaimedBatch batch, BatchDelivery.Outcome outcome, String reason) {
        List<DeadLetter> letters = new ArrayList<>();
        for (DeadLetter d : outcome.dead())
            letters.add(letter(batch, d.event(), d.kind(), reason + ": " + d.error(), d.statusCode(), d.attempts()));
        for (RetryEvent r : outcome.toRetry())
            letters.add(letter(batch, r.event(), DeadLetterKind.DELIVERY, reason + ": " + r.lastError(), null, 1));
        for (ObjectNode e : outcome.stay())
            letters.add(letter(batch, e, DeadLetterKind.DELIVERY, reason, null, Math.max(1, batch.attempts())));
        return letters;
    }

    private static DeadLetter letter(
            ClaimedBatch batch, ObjectNode event, DeadLetterKind kind, String error, Integer status, int attempts) {
        return DeadLetter.of(batch.syncId(), (ObjectNode) escape(event), kind, error, status, attempts, batch.id());
    }

    /** A copy with every name and text escaped (see the class comment). */
    static JsonNode escape(JsonNode node) {
        if (node.isTextual()) return TextNode.valueOf(escape(node.asText()));
        if (node instanceof ObjectNode object) {
            ObjectNode copy = JsonNodeFactory.instance.objectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String name = escape(field.getKey());
                copy.set(
                        name,
                        name.equals("messageId")
                                ? TextNode.valueOf(cut(escape(field.getValue().asText())))
                                : escape(field.getValue()));
            }
            return copy;
        }
        if (node instanceof ArrayNode array) {
            ArrayNode copy = JsonNodeFactory.instance.arrayNode();
            array.forEach(item -> copy.add(escape(item)));
            return copy;
        }
        return node;
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean loneSurrogate = Character.isSurrogate(c)
                    && !(Character.isHighSurrogate(c)
                            && i + 1 < text.length()
                            && Character.isLowSurrogate(text.charAt(i + 1)));
            if (Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(text.charAt(i - 1)))
                loneSurrogate = false;
            if (c < 0x20 || c == 0x7f || loneSurrogate) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.toString();
    }

    private static String cut(String id) {
        if (id.length() <= LONGEST_ID) return id;
        return id.substring(0, LONGEST_ID) + "…(" + id.length() + " characters)";
    }

    /** Records a state change of a held batch, retrying database hiccups ({@link BatchOutcomes#retryingHiccups}). */
    @FunctionalInterface
    interface Recorder {
        void retryingHiccups(ClaimedBatch batch, BatchOutcomes.SqlAction action) throws Exception;
    }
}
