package io.sluice.collector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.event.UserKey;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;

/**
 * Adds what the server knows to a validated event: messageId, receivedAt, skew-corrected timestamp, context.ip,
 * the batch-level context, and the source. See docs/record-format.md for the resulting record.
 */
final class EventEnricher {

    /** What one request contributes to each of its events; times parsed and formatted once per request. */
    record RequestFacts(
            String sourceId,
            Instant receivedAt,
            String receivedAtText,
            Instant batchSentAt,
            ObjectNode batchContext,
            String clientIp) {
        RequestFacts(
                String sourceId, Instant receivedAt, String batchSentAt, ObjectNode batchContext, String clientIp) {
            this(
                    sourceId,
                    receivedAt,
                    Timestamps.format(receivedAt),
                    batchSentAt == null ? null : Timestamps.parse(batchSentAt),
                    batchContext,
                    clientIp);
        }
    }

    /** @param index the event's place in the request, named when its corrected timestamp cannot be stored */
    void enrich(ObjectNode event, EventType type, RequestFacts facts, int index) {
        event.put("type", type.wireName());
        event.remove("writeKey"); // a credential, not event data
        JsonNode messageId = event.get("messageId");
        if (messageId == null || !messageId.isTextual() || messageId.asText().isEmpty()) {
            event.put("messageId", "sluice-" + UUID.randomUUID());
        }
        normaliseIdentity(event, "userId");
        normaliseIdentity(event, "anonymousId");

        String receivedAt = facts.receivedAtText();
        event.put("receivedAt", receivedAt);
        Instant sentAt = facts.batchSentAt();
        if (sentAt == null) {
            String own = text(event.get("sentAt"));
            sentAt = own == null ? null : Timestamps.parse(own);
        }
        if (sentAt != null) event.put("sentAt", Timestamps.format(sentAt));
        String clientTimestamp = text(event.get("timestamp"));
        if (clientTimestamp != null) {
            Instant timestamp = Timestamps.parse(clientTimestamp);
            event.put("originalTimestamp", clientTimestamp);
            // Correct for the client's clock: the delay between the event and sending it is what we trust.
            Instant corrected = sentAt == null ? timestamp : corrected(timestamp, sentAt, facts.receivedAt());
            if (corrected == null) throw uncorrectable(index);
            event.put("timestamp", Timestamps.format(corrected));
        } else {
            event.put("timestamp", receivedAt);
        }

        ObjectNode context = mergedContext(event, facts.batchContext());
        if (facts.clientIp() != null && !context.hasNonNull("ip")) context.put("ip", facts.clientIp());
        event.put("sourceId", facts.sourceId());
    }

    static Rejection uncorrectable(int index) {
        return Rejection.badEvent(
                index,
                "invalid_timestamp",
                "'timestamp' corrected for the client's clock "
                        + "(receivedAt - (sentAt - timestamp)) falls outside the years 0001-9999");
    }

    /**
     * receivedAt - (sentAt - timestamp), or null when that is outside the years 0001-9999. In seconds and nanos
     * rather than through Duration.between, which was 4 % of the streaming path's samples.
     */
    static Instant corrected(Instant timestamp, Instant sentAt, Instant receivedAt) {
        try {
            long seconds = receivedAt.getEpochSecond() + timestamp.getEpochSecond() - sentAt.getEpochSecond();
            long nanos = (long) receivedAt.getNano() + timestamp.getNano() - sentAt.getNano();
            Instant corrected = Instant.ofEpochSecond(seconds, nanos);
            return Timestamps.inRange(corrected) ? corrected : null;
        } catch (DateTimeException | ArithmeticException e) {
            return null;
        }
    }

    /** The event's own context wins over the batch-level one, key by key (deeply). */
    private static ObjectNode mergedContext(ObjectNode event, ObjectNode batchContext) {
        JsonNode existing = event.get("context");
        ObjectNode context = existing instanceof ObjectNode o ? o : event.putObject("context");
        if (batchContext != null) mergeMissing(context, batchContext);
        return context;
    }

    static void mergeMissing(ObjectNode target, ObjectNode defaults) {
        for (Iterator<Map.Entry<String, JsonNode>> it = defaults.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode mine = target.get(field.getKey());
            if (mine == null || mine.isNull()) {
                target.set(field.getKey(), field.getValue().deepCopy());
            } else if (mine instanceof ObjectNode mineObject && field.getValue() instanceof ObjectNode theirs) {
                mergeMissing(mineObject, theirs);
            }
        }
    }

    /** Numeric ids are accepted (some SDKs send them) but stored as strings, as the spec types them. */
    private static void normaliseIdentity(ObjectNode event, String field) {
        JsonNode node = event.get(field);
        if (node != null && node.isIntegralNumber()) event.put(field, node.asText());
    }

    static String text(JsonNode node) {
        return node != null && node.isTextual() ? node.asText() : null;
    }

    /** Kafka key: source + user, so one user's events stay ordered within one partition. */
    static String partitionKey(ObjectNode event, String sourceId) {
        return sourceId + ":" + UserKey.of(event);
    }
}
