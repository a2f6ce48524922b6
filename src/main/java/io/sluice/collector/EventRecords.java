package io.sluice.collector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.collector.EventEnricher.RequestFacts;
import io.sluice.collector.EventPublisher.OutgoingEvent;
import io.sluice.contract.Contract;
import io.sluice.contract.Violation;
import io.sluice.event.RoutingHeaders;
import io.sluice.suppression.Suppressions;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;

/**
 * Turns a parsed request into Kafka records: validates every event (all-or-nothing), enriches it and checks the
 * sizes as stored. Without a contract the records are spliced from the original bytes ({@link RecordWriter}); a
 * contract judges trees, so with one each event becomes a tree, is enriched by {@link EventEnricher} and
 * serialised. Both give the same record (RecordWriterTest compares them).
 */
final class EventRecords {
    private final ObjectMapper mapper;
    private final EventValidator validator;
    private final EventEnricher enricher = new EventEnricher();
    private final long maxStoredRequestBytes;
    private final Suppressions suppressions;

    EventRecords(ObjectMapper mapper, EventValidator validator, long maxStoredRequestBytes) {
        this(mapper, validator, maxStoredRequestBytes, Suppressions.NONE);
    }

    /** @param suppressions whose events are dropped after validation (answered 200, counted, never in Kafka) */
    EventRecords(ObjectMapper mapper, EventValidator validator, long maxStoredRequestBytes, Suppressions suppressions) {
        this.suppressions = suppressions;
        this.mapper = mapper;
        this.validator = validator;
        this.maxStoredRequestBytes = maxStoredRequestBytes;
    }

    /**
     * The request's records; with a contract, also checks each event against it, collecting {@code violations}
     * and leaving out the events it blocks. The records are added to {@code reservation} (when given) as they are
     * produced.
     */
    List<OutgoingEvent> prepare(
            ParsedRequest request,
            EventType pathType,
            RequestFacts facts,
            Contract contract,
            List<Violation> violations,
            InFlightLimiter.Reservation reservation) {
        return contract == null
                ? spliced(request, pathType, facts, reservation)
                : fromTrees(request, pathType, facts, contract, violations, reservation);
    }

    List<OutgoingEvent> spliced(
            ParsedRequest request, EventType pathType, RequestFacts facts, InFlightLimiter.Reservation reservation) {
        List<EventScan> events = request.events();
        // Validate everything before writing anything: a batch is accepted or refused as a whole.
        EventType[] types = new EventType[events.size()];
        for (int i = 0; i < events.size(); i++) types[i] = validator.validate(events.get(i), pathType, i);
        RecordWriter writer = new RecordWriter(mapper, facts);
        Stored stored = new Stored(reservation);
        List<OutgoingEvent> outgoing = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            EventScan event = events.get(i);
            if (!suppressions.isEmpty() && suppressed(event)) continue;
            byte[] value = writer.write(request.body(), event, types[i], i);
            stored.add(value.length, i);
            String key = writer.partitionKey(event);
            String name = types[i] == EventType.TRACK && event.token(EventScan.EVENT) == JsonToken.VALUE_STRING
                    ? event.text(EventScan.EVENT)
                    : null;
            outgoing.add(new OutgoingEvent(key, value, headers(facts, key, types[i], name)));
        }
        stored.flush();
        return outgoing;
    }

    List<OutgoingEvent> fromTrees(
            ParsedRequest request,
            EventType pathType,
            RequestFacts facts,
            Contract contract,
            List<Violation> violations,
            InFlightLimiter.Reservation reservation) {
        List<ObjectNode> events = request.trees(mapper);
        EventType[] types = new EventType[events.size()];
        for (int i = 0; i < events.size(); i++) types[i] = validator.validate(events.get(i), pathType, i);
        Stored stored = new Stored(reservation);
        List<OutgoingEvent> outgoing = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            ObjectNode event = events.get(i);
            enricher.enrich(event, types[i], facts, i);
            if (!suppressions.isEmpty() && suppressed(event)) continue;
            if (contract != null && !contract.admit(event, facts.receivedAt(), violations)) continue;
            byte[] value;
            try {
                value = mapper.writeValueAsBytes(event);
            } catch (JsonProcessingException e) {
                throw Rejection.badEvent(
                        i, "invalid_event", "the event could not be serialised: " + e.getOriginalMessage());
            }
            stored.add(value.length, i);
            String key = EventEnricher.partitionKey(event, facts.sourceId());
            JsonNode name = event.get("event");
            outgoing.add(new OutgoingEvent(
                    key,
                    value,
                    headers(
                            facts,
                            key,
                            types[i],
                            types[i] == EventType.TRACK && name != null && name.isTextual()
                                    ? name.textValue()
                                    : null)));
        }
        stored.flush();
        return outgoing;
    }

    /** Privacy (docs/privacy.md): the event of a suppressed userId or anonymousId is left out. */
    private boolean suppressed(EventScan event) {
        return suppressions.drops(
                RecordWriter.identity(event, EventScan.USER_ID), RecordWriter.identity(event, EventScan.ANONYMOUS_ID));
    }

    private boolean suppressed(ObjectNode event) {
        JsonNode userId = event.get("userId");
        JsonNode anonymousId = event.get("anonymousId");
        return suppressions.drops(
                userId == null || userId.isNull() ? null : userId.asText(),
                anonymousId == null || anonymousId.isNull() ? null : anonymousId.asText());
    }

    /** The record's routing headers; the user is the key's part after {@code source:}. */
    private static List<Header> headers(RequestFacts facts, String key, EventType type, String trackName) {
        String user = key.substring(facts.sourceId().length() + 1);
        return RoutingHeaders.of(facts.sourceId(), type.wireName(), trackName, user, facts.receivedAt());
    }

    /**
     * The limits on the records as stored: a batch-level context is copied into every event and must not bypass
     * them. Bytes go to the reservation in steps of at least 16 KB (one semaphore operation per step, not per
     * event); the request's body, already reserved, bounds what a step can hold back.
     */
    private final class Stored {
        private static final int STEP = 16 * 1024;

        /**
         * What an event holds besides its record until the request ends, estimated from the classes: its scan
         * (field offsets, the needed texts and instants), its routing headers, its key and the list entries, about
         * 2 KB. Left out, a flood of 880-event batches held twice its budget and ran a 360 MB heap out
         * (docs/performance.md).
         */
        static final int HELD_PER_EVENT = 2048;

        private final InFlightLimiter.Reservation reservation;
        private long total;
        private long unreserved;

        Stored(InFlightLimiter.Reservation reservation) {
            this.reservation = reservation;
        }

        void add(int size, int index) {
            validator.checkStoredSize(size, index);
            total += size;
            if (total > maxStoredRequestBytes) {
                throw Rejection.tooLarge(
                        "request_too_large",
                        "the request's events as stored (with the batch context merged) exceed " + maxStoredRequestBytes
                                + " bytes",
                        -1);
            }
            unreserved += size + HELD_PER_EVENT;
            if (unreserved >= STEP) flush();
        }

        void flush() {
            if (reservation != null) reservation.grow(unreserved);
            unreserved = 0;
        }
    }
}
