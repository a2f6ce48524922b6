package io.sluice.destination.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.destination.DeliveryBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one committed Kafka transaction delivered, written to the marker topic in that same transaction (as Kafka
 * Connect's exactly-once source connectors commit their source offsets), so a rerun of the same delivery after a crash
 * or a lost lease is recognised and its events are not sent again.
 *
 * <ul>
 *   <li>Batches (events-topic partition {@code >= 0}): the identity is the batch row and its offset range, plus the
 *       part when only part of the batch was sent ({@link DeliveryBatch#part()}); one marker per sync and partition,
 *       the latest. {@code delivered} stays empty: the range says it all.
 *   <li>Retry chains (partition {@code < 0}: one user's events from the retry queue, {@code first}/{@code last} the
 *       retry rows' ids): the identity is the chain's first row; {@code delivered} names every event committed for it
 *       ({@link EventKeys}), so a rerun, which may carry more of the user's events, sends only the others.
 * </ul>
 *
 * {@code refused} are the events the topic refused for good (too large, say), with the reason: a rerun that skips
 * the delivery reports them again, so they still become dead letters.
 */
record DeliveryMarker(
        long batch, long first, long last, String part, List<String> delivered, Map<String, String> refused) {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    DeliveryMarker {
        delivered = List.copyOf(delivered);
        refused = Map.copyOf(refused);
    }

    /** The same batch, range and part: a rerun of the delivery this marker committed. */
    boolean sameDelivery(DeliveryBatch b) {
        return batch == b.batchId()
                && first == b.firstOffset()
                && last == b.lastOffset()
                && Objects.equals(part, b.part());
    }

    /**
     * A later batch of the partition was committed, overlapping or after {@code b}: {@code b} was delivered (batches
     * of a sync and partition are delivered in order) and whoever holds it holds a claim no longer current.
     */
    boolean laterThan(DeliveryBatch b) {
        return batch > b.batchId() && last >= b.firstOffset();
    }

    byte[] toJson() {
        ObjectNode node = MAPPER.createObjectNode()
                .put("batch", batch)
                .put("first", first)
                .put("last", last)
                .put("part", part);
        delivered.forEach(node.putArray("delivered")::add);
        ObjectNode refusedNode = node.putObject("refused");
        refused.forEach(refusedNode::put);
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static DeliveryMarker parse(byte[] json) throws IOException {
        JsonNode node = MAPPER.readTree(json);
        List<String> delivered = new ArrayList<>();
        node.path("delivered").forEach(k -> delivered.add(k.asText()));
        Map<String, String> refused = new LinkedHashMap<>();
        node.path("refused")
                .properties()
                .forEach(e -> refused.put(e.getKey(), e.getValue().asText()));
        JsonNode part = node.get("part");
        return new DeliveryMarker(
                node.path("batch").asLong(),
                node.path("first").asLong(),
                node.path("last").asLong(),
                part == null || part.isNull() ? null : part.asText(),
                delivered,
                refused);
    }
}
