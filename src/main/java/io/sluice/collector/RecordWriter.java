package io.sluice.collector;

import static io.sluice.collector.EventScan.ANONYMOUS_ID;
import static io.sluice.collector.EventScan.CONTEXT;
import static io.sluice.collector.EventScan.MESSAGE_ID;
import static io.sluice.collector.EventScan.ORIGINAL_TIMESTAMP;
import static io.sluice.collector.EventScan.RECEIVED_AT;
import static io.sluice.collector.EventScan.SENT_AT;
import static io.sluice.collector.EventScan.SOURCE_ID;
import static io.sluice.collector.EventScan.TIMESTAMP;
import static io.sluice.collector.EventScan.TYPE;
import static io.sluice.collector.EventScan.USER_ID;
import static io.sluice.collector.EventScan.WRITE_KEY;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.collector.EventEnricher.RequestFacts;
import io.sluice.event.UserKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * Writes an event's Kafka record by copying its original bytes, field by field, and splicing in what the server
 * adds: the same record {@link EventEnricher} makes from a tree (docs/record-format.md), without building and
 * re-encoding one. Only a context that has to be merged with the batch-level context, or whose "ip" is an explicit
 * null, goes through a tree, and only that context. One writer serves one request (its buffer is reused).
 */
final class RecordWriter {
    private static final byte[] TYPE_NAME = name("type"), MESSAGE_ID_NAME = name("messageId");
    private static final byte[] RECEIVED_AT_NAME = name("receivedAt"), SENT_AT_NAME = name("sentAt");
    private static final byte[] TIMESTAMP_NAME = name("timestamp"), ORIGINAL_NAME = name("originalTimestamp");
    private static final byte[] CONTEXT_NAME = name("context"), SOURCE_ID_NAME = name("sourceId");
    private static final byte[] IP_NAME = name("ip");
    private static final byte[][] TYPES = new byte[EventType.values().length][];

    static {
        for (EventType type : EventType.values()) TYPES[type.ordinal()] = literal(type.wireName());
    }

    private final ObjectMapper mapper;
    private final RequestFacts facts;
    private final byte[] receivedAt, batchSentAt, sourceId, clientIp; // JSON string literals
    private byte[] newContext; // the context of events without one: the same for every event of the request
    private byte[] out = new byte[2048];
    private int size;
    private String messageId; // of the last event written

    RecordWriter(ObjectMapper mapper, RequestFacts facts) {
        this.mapper = mapper;
        this.facts = facts;
        this.receivedAt = literal(facts.receivedAtText());
        this.batchSentAt = facts.batchSentAt() == null ? null : literal(Timestamps.format(facts.batchSentAt()));
        this.sourceId = literal(facts.sourceId());
        this.clientIp = facts.clientIp() == null ? null : literal(facts.clientIp());
    }

    /** The record of {@code e} (validated, of {@code type}) from {@code body}; {@code index} names it in errors. */
    byte[] write(byte[] body, EventScan e, EventType type, int index) {
        size = 0;
        put((byte) '{');
        byte[] sentAt = batchSentAt;
        Instant sentAtInstant = facts.batchSentAt();
        if (sentAtInstant == null && e.token(SENT_AT) == JsonToken.VALUE_STRING) {
            sentAtInstant = e.instant(SENT_AT); // valid: the validator parsed it
            sentAt = literal(Timestamps.format(sentAtInstant));
        }
        boolean hasTimestamp = e.token(TIMESTAMP) == JsonToken.VALUE_STRING;
        messageId = e.token(MESSAGE_ID) == JsonToken.VALUE_STRING ? e.text(MESSAGE_ID) : null;
        boolean newMessageId = messageId == null || messageId.isEmpty();
        if (newMessageId) messageId = "sluice-" + UUID.randomUUID();
        boolean hasContext = e.token(CONTEXT) == JsonToken.START_OBJECT;

        for (int i = 0; i < e.fieldCount; i++) {
            int slot = e.slot[i];
            switch (slot) {
                case TYPE, WRITE_KEY, RECEIVED_AT, SOURCE_ID, TIMESTAMP -> {}
                case ORIGINAL_TIMESTAMP -> keepUnless(hasTimestamp, body, e, i);
                case SENT_AT -> keepUnless(sentAt != null, body, e, i);
                case MESSAGE_ID -> keepUnless(newMessageId, body, e, i);
                case CONTEXT -> {
                    if (hasContext) context(body, e, i);
                }
                case USER_ID, ANONYMOUS_ID -> {
                    // Numeric ids are accepted (some SDKs send them) but stored as strings, as the spec types them.
                    if (e.token(slot) == JsonToken.VALUE_NUMBER_INT) {
                        comma();
                        put(body, e.nameStart[i], e.valueStart[i]);
                        put(literal(e.text(slot)));
                    } else {
                        copy(body, e, i);
                    }
                }
                default -> copy(body, e, i);
            }
        }
        field(TYPE_NAME, TYPES[type.ordinal()]);
        if (newMessageId) field(MESSAGE_ID_NAME, literal(messageId));
        field(RECEIVED_AT_NAME, receivedAt);
        if (sentAt != null) field(SENT_AT_NAME, sentAt);
        if (hasTimestamp) {
            Instant timestamp = e.instant(TIMESTAMP);
            Instant corrected = sentAtInstant == null
                    ? timestamp
                    : EventEnricher.corrected(timestamp, sentAtInstant, facts.receivedAt());
            if (corrected == null) throw EventEnricher.uncorrectable(index);
            comma();
            put(TIMESTAMP_NAME);
            putAscii(Timestamps.format(corrected)); // digits and punctuation: nothing to escape
            int t = e.field(TIMESTAMP);
            comma();
            put(ORIGINAL_NAME);
            put(body, e.valueStart[t], e.valueEnd[t]); // the client's string exactly as sent
        } else {
            field(TIMESTAMP_NAME, receivedAt);
        }
        if (!hasContext) field(CONTEXT_NAME, newContext());
        field(SOURCE_ID_NAME, sourceId);
        put((byte) '}');
        return Arrays.copyOf(out, size);
    }

    /** Kafka key of the last event written: source + user ({@link UserKey}). */
    String partitionKey(EventScan e) {
        return facts.sourceId() + ":" + UserKey.of(identity(e, USER_ID), identity(e, ANONYMOUS_ID), messageId);
    }

    static String identity(EventScan e, int slot) {
        JsonToken token = e.token(slot);
        return token == JsonToken.VALUE_STRING || token == JsonToken.VALUE_NUMBER_INT ? e.text(slot) : null;
    }

    private void context(byte[] body, EventScan e, int i) {
        boolean addIp = clientIp != null && e.contextIp != EventScan.IP_SET;
        if (facts.batchContext() == null && !addIp) {
            copy(body, e, i);
        } else if (facts.batchContext() == null && e.contextIp == EventScan.IP_ABSENT) {
            comma();
            put(body, e.nameStart[i], e.valueStart[i] + 1); // up to and including '{'
            put(IP_NAME);
            put(clientIp);
            if (!e.contextEmpty) put((byte) ',');
            put(body, e.valueStart[i] + 1, e.valueEnd[i]);
        } else {
            ObjectNode context = tree(body, e.valueStart[i], e.valueEnd[i]);
            comma();
            put(body, e.nameStart[i], e.valueStart[i]);
            put(enriched(context));
        }
    }

    private byte[] newContext() {
        if (newContext == null) newContext = enriched(mapper.createObjectNode());
        return newContext;
    }

    /** The batch context merged in underneath, and the client's address if there is no ip: as EventEnricher does. */
    private byte[] enriched(ObjectNode context) {
        if (facts.batchContext() != null) EventEnricher.mergeMissing(context, facts.batchContext());
        if (facts.clientIp() != null && !context.hasNonNull("ip")) context.put("ip", facts.clientIp());
        try {
            return mapper.writeValueAsBytes(context);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("a context tree could not be serialised", ex);
        }
    }

    private ObjectNode tree(byte[] body, int from, int to) {
        try {
            return (ObjectNode) mapper.readTree(body, from, to - from);
        } catch (IOException ex) {
            throw new IllegalStateException("a context the parser accepted could not be read again", ex);
        }
    }

    private void keepUnless(boolean replaced, byte[] body, EventScan e, int i) {
        if (!replaced) copy(body, e, i);
    }

    private void copy(byte[] body, EventScan e, int i) {
        comma();
        put(body, e.nameStart[i], e.valueEnd[i]);
    }

    private void field(byte[] name, byte[] value) {
        comma();
        put(name);
        put(value);
    }

    private void comma() {
        if (size > 1) put((byte) ',');
    }

    private void put(byte b) {
        if (size == out.length) out = Arrays.copyOf(out, size * 2);
        out[size++] = b;
    }

    private void put(byte[] bytes) {
        put(bytes, 0, bytes.length);
    }

    private void put(byte[] bytes, int from, int to) {
        int n = to - from;
        if (size + n > out.length) out = Arrays.copyOf(out, Math.max(out.length * 2, size + n));
        System.arraycopy(bytes, from, out, size, n);
        size += n;
    }

    private void putAscii(String text) {
        int n = text.length();
        if (size + n + 2 > out.length) out = Arrays.copyOf(out, Math.max(out.length * 2, size + n + 2));
        out[size++] = '"';
        for (int i = 0; i < n; i++) out[size++] = (byte) text.charAt(i);
        out[size++] = '"';
    }

    /** {@code "name":} */
    private static byte[] name(String name) {
        return ("\"" + name + "\":").getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON string literal, escaped as Jackson's generator escapes. */
    private static byte[] literal(String text) {
        byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(text);
        byte[] quoted = new byte[escaped.length + 2];
        quoted[0] = '"';
        System.arraycopy(escaped, 0, quoted, 1, escaped.length);
        quoted[quoted.length - 1] = '"';
        return quoted;
    }
}
