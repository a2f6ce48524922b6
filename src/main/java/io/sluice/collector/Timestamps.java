package io.sluice.collector;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAccessor;

/** ISO-8601 parsing as clients send it, and the one output format Sluice writes (UTC, milliseconds). */
final class Timestamps {
    private static final DateTimeFormatter OUTPUT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Timestamps() {}

    /** Parses {@code 2024-05-01T12:00:00.123Z}, with an offset, or without a zone (taken as UTC); null if invalid. */
    static Instant parse(String text) {
        try {
            TemporalAccessor parsed = DateTimeFormatter.ISO_DATE_TIME.parseBest(text, java.time.OffsetDateTime::from, LocalDateTime::from);
            return parsed instanceof LocalDateTime local ? local.toInstant(ZoneOffset.UTC) : ((java.time.OffsetDateTime) parsed).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static String format(Instant instant) {
        return OUTPUT.format(instant);
    }
}
