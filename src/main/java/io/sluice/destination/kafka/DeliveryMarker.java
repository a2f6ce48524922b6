package io.sluice.destination.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
 * What committed Kafka transactions delivered, written to the marker topic in the same transaction as the events (as
 * Kafka Connect's exactly-once source connectors commit their source offsets), so a rerun of a delivery after a crash
 * or a lost lease is recognised and its events are not sent again.
 *
 * <ul>
 *   <li>Batches (events-topic partition {@code >= 0}), one marker per sync and partition: the last {@link #KEPT}
 *       deliveries ({@code recent}, newest last), each named by batch id, offset range, part ({@link
 *       DeliveryBatch#part()}) and a digest of the events' content. A rerun matches one of them exactly; a worker that
 *       lost its lease and delivers a batch the new owner committed a few batches ago still finds it.
 *   <li>Retry chains (partition {@code < 0}: one user's events from the retry queue), one marker per sync and user:
 *       {@code delivered} names every event committed for the chain ({@link EventKeys}), so a rerun, which may carry
 *       more of the user's events, sends only the others.
 * </ul>
 *
 * {@code refused}: the events the topic refused for good (too large, say), with the reason; a rerun that skips the
 * delivery reports them again, so they still become dead letters.
 */
record DeliveryMarker(List<Delivery> recent, List<String> delivered) {
    /** Deliveries remembered per sync and partition. */
    static final int KEPT = 32;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One committed delivery of a batch (or part of one). */
    record Delivery(long batch, long first, long last, String part, String digest, Map<String, String> refused) {
        Delivery {
            refused = Map.copyOf(refused);
        }

        static Delivery of(DeliveryBatch b, String digest, Map<String, String> refused) {
            // a batch by its offsets; a retry chain (batch 0) by its retry rows
            return switch (b.origin()) {
                case DeliveryBatch.BatchRange range ->
                    new Delivery(b.batchId(), range.firstOffset(), range.lastOffset(), b.subset(), digest, refused);
                case DeliveryBatch.RetryChain chain ->
                    new Delivery(0, chain.firstRowId(), chain.lastRowId(), b.subset(), digest, refused);
            };
        }

        boolean matches(Delivery other) {
            return batch == other.batch
                    && first == other.first
                    && last == other.last
                    && Objects.equals(part, other.part)
                    && digest.equals(other.digest);
        }
    }

    DeliveryMarker {
        recent = List.copyOf(recent);
        delivered = List.copyOf(delivered);
    }

    static final DeliveryMarker NONE = new DeliveryMarker(List.of(), List.of());

    /** The committed delivery this one repeats, or null. */
    Delivery find(Delivery delivery) {
        for (Delivery d : recent) if (d.matches(delivery)) return d;
        return null;
    }

    /** This marker with {@code delivery} the newest of the recent ones. */
    DeliveryMarker with(Delivery delivery, List<String> deliveredNow) {
        List<Delivery> kept = new ArrayList<>(recent);
        kept.add(delivery);
        while (kept.size() > KEPT) kept.removeFirst();
        return new DeliveryMarker(kept, deliveredNow);
    }

    byte[] toJson() {
        ObjectNode node = MAPPER.createObjectNode();
        ArrayNode list = node.putArray("recent");
        for (Delivery d : recent) {
            ObjectNode item = list.addObject()
                    .put("batch", d.batch())
                    .put("first", d.first())
                    .put("last", d.last())
                    .put("part", d.part())
                    .put("digest", d.digest());
            ObjectNode refused = item.putObject("refused");
            d.refused().forEach(refused::put);
        }
        delivered.forEach(node.putArray("delivered")::add);
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static DeliveryMarker parse(byte[] json) throws IOException {
        JsonNode node = MAPPER.readTree(json);
        List<Delivery> recent = new ArrayList<>();
        for (JsonNode d : node.path("recent")) {
            Map<String, String> refused = new LinkedHashMap<>();
            d.path("refused")
                    .properties()
                    .forEach(e -> refused.put(e.getKey(), e.getValue().asText()));
            JsonNode part = d.get("part");
            recent.add(new Delivery(
                    d.path("batch").asLong(),
                    d.path("first").asLong(),
                    d.path("last").asLong(),
                    part == null || part.isNull() ? null : part.asText(),
                    d.path("digest").asText(),
                    refused));
        }
        List<String> delivered = new ArrayList<>();
        node.path("delivered").forEach(k -> delivered.add(k.asText()));
        return new DeliveryMarker(recent, delivered);
    }
}
