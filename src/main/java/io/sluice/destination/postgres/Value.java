package io.sluice.destination.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.event.IsoTimestamps;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAccessor;

/**
 * One JSON value bound for a warehouse column: its inferred kind, its text for a column of that kind
 * ({@code typed}) and its text for a text column ({@code text}, the value as the client sent it).
 *
 * <p>PostgreSQL text cannot hold U+0000, so that one character is written as the six characters {@code \u0000}
 * (its JSON escape); everything else is stored as sent.
 *
 * <p>A value also keeps its CSV bytes once written: a track's common columns go into two tables' COPY data, and
 * are encoded once. (A class rather than a record for that cache; values are confined to one batch's thread.)
 */
final class Value {
    private final Kind kind;
    private final String typed;
    private final String text;
    private byte[] typedCsv;
    private byte[] textCsv;
    private byte[] typedUtf8;
    private byte[] textUtf8;
    /** For payload values: where in the event it came from, and the JSON as sent (for the overflow column). */
    private ColumnOrigin origin;

    private JsonNode node;
    /** TIMESTAMP values: the instant in microseconds since the Unix epoch (what binary COPY sends). */
    private final long micros;

    Value(Kind kind, String typed, String text) {
        this(kind, typed, text, kind == Kind.TIMESTAMP ? micros(Instant.parse(typed)) : 0);
    }

    private Value(Kind kind, String typed, String text, long micros) {
        this.kind = kind;
        this.typed = typed;
        this.text = text;
        this.micros = micros;
    }

    /** A timestamp value's instant in microseconds since the Unix epoch (parsed once, when the value was made). */
    long micros() {
        if (kind != Kind.TIMESTAMP) throw new IllegalStateException("not a timestamp: " + kind);
        return micros;
    }

    Kind kind() {
        return kind;
    }

    /** This payload value, marked with where it came from (values are created per occurrence, never shared). */
    Value from(ColumnOrigin origin, JsonNode node) {
        this.origin = origin;
        this.node = node;
        return this;
    }

    /** Where a payload value came from; null for the columns Sluice fills itself. */
    ColumnOrigin origin() {
        return origin;
    }

    /** The JSON value as sent, for payload values. */
    JsonNode node() {
        return node;
    }

    /** A JSON document for a jsonb column (the overflow column). */
    static Value json(String json) {
        return new Value(Kind.JSON, json, json);
    }

    String typed() {
        return typed;
    }

    String text() {
        return text;
    }

    /** The CSV field's content (quotes doubled, UTF-8, without the enclosing quotes) of the typed or text form. */
    byte[] csv(boolean asText) {
        if (asText || typed.equals(text)) {
            if (textCsv == null) textCsv = CsvOut.escaped(text);
            return textCsv;
        }
        if (typedCsv == null) typedCsv = CsvOut.escaped(typed);
        return typedCsv;
    }

    /**
     * The UTF-8 bytes of the typed or text form, for binary COPY (kept like the CSV bytes; without a quote to double
     * they are the CSV bytes). An unpaired surrogate becomes '?', as in the CSV path.
     */
    byte[] utf8(boolean asText) {
        if (asText || typed.equals(text)) {
            if (textUtf8 == null) textUtf8 = text.indexOf('"') < 0 ? csv(true) : text.getBytes(StandardCharsets.UTF_8);
            return textUtf8;
        }
        if (typedUtf8 == null) typedUtf8 = typed.indexOf('"') < 0 ? csv(false) : typed.getBytes(StandardCharsets.UTF_8);
        return typedUtf8;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Value v && kind == v.kind && typed.equals(v.typed) && text.equals(v.text);
    }

    @Override
    public int hashCode() {
        return (kind.hashCode() * 31 + typed.hashCode()) * 31 + text.hashCode();
    }

    @Override
    public String toString() {
        return kind + ":" + text;
    }

    enum Kind {
        BOOLEAN,
        INT,
        BIG_INT,
        DOUBLE,
        TIMESTAMP,
        TEXT,
        /** A JSON document: only for Sluice's jsonb columns. */
        JSON
    }

    /** The text to COPY into a column of this type (which accepts this value's kind). */
    String render(ColumnType type) {
        return type == ColumnType.TEXT ? text : typed;
    }

    /** The value with its type inferred; null for JSON null (no value, the column stays NULL). */
    static Value of(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return null;
        if (node.isBoolean()) {
            String text = node.booleanValue() ? "true" : "false";
            return new Value(Kind.BOOLEAN, text, text);
        }
        if (node.isIntegralNumber()) {
            if (!node.canConvertToLong()) return text(node.bigIntegerValue().toString());
            long v = node.longValue();
            String text = Long.toString(v);
            boolean exact = v <= ColumnType.MAX_EXACT_DOUBLE && v >= -ColumnType.MAX_EXACT_DOUBLE;
            return new Value(exact ? Kind.INT : Kind.BIG_INT, text, text);
        }
        if (node.isNumber()) {
            if (node.isBigDecimal()) {
                BigDecimal exact = node.decimalValue();
                double d = exact.doubleValue();
                if (Double.isInfinite(d) || new BigDecimal(Double.toString(d)).compareTo(exact) != 0)
                    return text(exact.toString());
            }
            String text = node.asText();
            return new Value(Kind.DOUBLE, text, text);
        }
        if (node.isTextual()) return ofString(node.textValue());
        return text(node.toString()); // arrays (and objects where a scalar is expected) as JSON text
    }

    /** The value as text whatever its JSON type (for id, user_id, event and the like). */
    static Value asText(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return null;
        return text(node.isTextual() ? node.textValue() : node.isValueNode() ? node.asText() : node.toString());
    }

    static Value text(String text) {
        String safe = text.indexOf('\0') >= 0 ? text.replace("\0", "\\u0000") : text;
        return new Value(Kind.TEXT, safe, safe);
    }

    static Value timestamp(Instant instant) {
        String text = instant.toString();
        return new Value(Kind.TIMESTAMP, text, text, micros(instant));
    }

    private static Value ofString(String text) {
        long fast = IsoTimestamps.parseCommonMicros(text);
        if (fast != IsoTimestamps.NOT_COMMON) {
            // the common shape: PostgreSQL reads the text as sent as this very instant, so it is the typed form too
            // (timestamptz holds years 0001 on and whole microseconds only)
            return fast != IsoTimestamps.FINER_THAN_MICROS && !text.startsWith("0000")
                    ? new Value(Kind.TIMESTAMP, text, text, fast)
                    : text(text);
        }
        Instant instant = parseSlow(text);
        if (instant == null) return text(text);
        return new Value(Kind.TIMESTAMP, instant.toString(), text, micros(instant));
    }

    private static long micros(Instant at) {
        return Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000);
    }

    /**
     * An ISO-8601 date-time ({@code 2024-05-01T12:00:00.123Z}, with an offset, or without a zone: UTC) that
     * timestamptz holds exactly — years 1-9999, at most microseconds — else null.
     */
    static Instant parseTimestamp(String text) {
        Instant fast = IsoTimestamps.parseCommon(text);
        if (fast != null) return holdsExactly(fast, text) ? fast : null;
        return parseSlow(text);
    }

    /** A UTC instant of the fast path in what timestamptz holds: year 0001 or later, whole microseconds. */
    private static boolean holdsExactly(Instant fast, String text) {
        return fast.getNano() % 1000 == 0 && !text.startsWith("0000");
    }

    /** The general ISO-8601 parser (DateTimeFormatter): ~1 µs, so only for shapes the fast path does not take. */
    static Instant parseSlow(String text) {
        if (text.length() < 16
                || text.length() > 64
                || text.charAt(4) != '-'
                || text.charAt(7) != '-'
                || (text.charAt(10) != 'T' && text.charAt(10) != 't')
                || !isDigit(text.charAt(0))) {
            return null;
        }
        try {
            TemporalAccessor parsed =
                    DateTimeFormatter.ISO_DATE_TIME.parseBest(text, OffsetDateTime::from, LocalDateTime::from);
            OffsetDateTime time =
                    parsed instanceof LocalDateTime local ? local.atOffset(ZoneOffset.UTC) : (OffsetDateTime) parsed;
            if (time.getYear() < 1 || time.getYear() > 9999 || time.getNano() % 1000 != 0) return null;
            Instant instant = time.toInstant();
            int year = instant.atOffset(ZoneOffset.UTC).getYear();
            return year < 1 || year > 9999 ? null : instant;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
