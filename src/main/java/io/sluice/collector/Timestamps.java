package io.sluice.collector;

import io.sluice.event.IsoTimestamps;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.TemporalAccessor;

/**
 * ISO-8601 parsing as clients send it, and the one output format Sluice writes (UTC, milliseconds). Only instants
 * in the years 0001-9999 (UTC) exist here: they are what the output format, PostgreSQL and every SDK can represent,
 * so anything else is invalid rather than stored in a shape nobody can read back.
 */
final class Timestamps {
    /** 0001-01-01T00:00:00Z and the last nanosecond of 9999: the range {@link #format} writes in its one shape. */
    static final Instant MIN = Instant.parse("0001-01-01T00:00:00Z");

    static final Instant MAX = Instant.parse("9999-12-31T23:59:59.999999999Z");
    private static final DateTimeFormatter OUTPUT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Timestamps() {}

    /**
     * Parses {@code 2024-05-01T12:00:00.123Z}, with an offset, or without a zone (taken as UTC); null if invalid or
     * outside the years 0001-9999 in UTC.
     */
    static Instant parse(String text) {
        // the shape SDKs send almost always, parsed by hand (DateTimeFormatter was a third of the collector's CPU)
        Instant fast = IsoTimestamps.parseCommon(text);
        if (fast != null) return inRange(fast) ? fast : null;
        try {
            TemporalAccessor parsed =
                    DateTimeFormatter.ISO_DATE_TIME.parseBest(text, OffsetDateTime::from, LocalDateTime::from);
            Instant instant = parsed instanceof LocalDateTime local
                    ? local.toInstant(ZoneOffset.UTC)
                    : ((OffsetDateTime) parsed).toInstant();
            return inRange(instant) ? instant : null;
        } catch (DateTimeException e) { // DateTimeParseException, or a value java.time cannot represent
            return null;
        }
    }

    /** Whether the instant lies in the years 0001-9999 (UTC). */
    static boolean inRange(Instant instant) {
        return !instant.isBefore(MIN) && !instant.isAfter(MAX);
    }

    /**
     * UTC with milliseconds, e.g. 2026-03-01T12:00:00.000Z; by hand for years 0-9999 (DateTimeFormatter was hot).
     * Callers only pass instants {@link #inRange}; the fallback is proleptic ({@code uuuu}), never year-of-era.
     */
    static String format(Instant instant) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(instant.getEpochSecond(), instant.getNano(), ZoneOffset.UTC);
        if (t.getYear() < 0 || t.getYear() > 9999) return OUTPUT.format(instant);
        char[] c = new char[24];
        put(c, 0, t.getYear(), 4);
        c[4] = '-';
        put(c, 5, t.getMonthValue(), 2);
        c[7] = '-';
        put(c, 8, t.getDayOfMonth(), 2);
        c[10] = 'T';
        put(c, 11, t.getHour(), 2);
        c[13] = ':';
        put(c, 14, t.getMinute(), 2);
        c[16] = ':';
        put(c, 17, t.getSecond(), 2);
        c[19] = '.';
        put(c, 20, t.getNano() / 1_000_000, 3);
        c[23] = 'Z';
        return new String(c);
    }

    private static void put(char[] c, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            c[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }
}
