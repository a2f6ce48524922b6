package io.sluice.event;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The Kafka record headers the collector writes on every event record (docs/record-format.md), so that the planner
 * and the worker route an event without parsing its JSON value: source id, type, track event name, user and received
 * time. Values are bytes: strings UTF-8 encoded as they are (they come from the sender, so they are only ever
 * compared, never put into another protocol), the received time as 8 bytes of epoch milliseconds, big-endian.
 * The JSON value still holds every field: headers are a copy for routing, and records written before them (no
 * {@link #TYPE} header) are routed by the value as before.
 */
public final class RoutingHeaders {
    public static final String SOURCE = "sluice.source";
    public static final String TYPE = "sluice.type";
    /** Only on track events: their event name. */
    public static final String EVENT = "sluice.event";

    public static final String USER = "sluice.user";
    public static final String RECEIVED_AT = "sluice.receivedAt";

    private RoutingHeaders() {}

    /** @param event the track event's name, or null for other types (and a track event without a string name) */
    public static List<Header> of(String source, String type, String event, String user, Instant receivedAt) {
        List<Header> headers = new ArrayList<>(5);
        headers.add(new RecordHeader(SOURCE, utf8(source)));
        headers.add(new RecordHeader(TYPE, utf8(type)));
        if (event != null) headers.add(new RecordHeader(EVENT, utf8(event)));
        headers.add(new RecordHeader(USER, utf8(user)));
        headers.add(new RecordHeader(
                RECEIVED_AT,
                ByteBuffer.allocate(Long.BYTES)
                        .putLong(receivedAt.toEpochMilli())
                        .array()));
        return headers;
    }

    /** Whether the record carries Sluice's routing headers (records of older versions do not). */
    public static boolean present(Headers headers) {
        return headers != null && headers.lastHeader(TYPE) != null;
    }

    /** A string header's text, or null when absent. */
    public static String text(Headers headers, String name) {
        Header header = headers == null ? null : headers.lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** The received time, or null when absent or not 8 bytes. */
    public static Instant receivedAt(Headers headers) {
        Header header = headers == null ? null : headers.lastHeader(RECEIVED_AT);
        if (header == null || header.value() == null || header.value().length != Long.BYTES) return null;
        return Instant.ofEpochMilli(ByteBuffer.wrap(header.value()).getLong());
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
