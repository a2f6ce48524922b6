package io.sluice.event;

import java.time.Instant;

/**
 * Hand-written ISO-8601 for the one shape SDKs and the collector almost always write,
 * {@code yyyy-MM-ddTHH:mm:ss[.fraction]Z}: parsing and formatting in tens of nanoseconds instead of the ~1 µs a
 * {@code DateTimeFormatter} takes, which was a quarter of the worker's CPU (docs/performance.md). Anything else is
 * left to the caller's general parser: {@link #parseCommon} returning null means "not this shape", never "invalid".
 */
public final class IsoTimestamps {
    private static final int[] DAYS_IN_MONTH = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    private IsoTimestamps() {}

    /**
     * The instant of {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z} (years 0000-9999, a real calendar date, hours 0-23,
     * seconds 0-59); null for any other text, including shapes a general ISO parser would still accept.
     */
    public static Instant parseCommon(String s) {
        long micros = parseCommonMicros(s, true);
        if (micros == NOT_COMMON) return null;
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), nanosOfSecond(s));
    }

    /** What {@link #parseCommonMicros} returns for text of another shape. */
    public static final long NOT_COMMON = Long.MIN_VALUE;
    /** What {@link #parseCommonMicros} returns for the common shape with a non-zero digit below microseconds. */
    public static final long FINER_THAN_MICROS = Long.MIN_VALUE + 1;

    /**
     * Microseconds since the Unix epoch of the shape {@link #parseCommon} takes, without an {@link Instant};
     * {@link #NOT_COMMON} for any other text, {@link #FINER_THAN_MICROS} for one with nanoseconds that are not whole
     * microseconds (the caller decides what such a value is).
     */
    public static long parseCommonMicros(String s) {
        return parseCommonMicros(s, false);
    }

    /** The nanoseconds within the second of a common timestamp (all nine digits, also below microseconds). */
    private static int nanosOfSecond(String s) {
        int n = s.length();
        if (n == 20) return 0;
        int fraction = n - 21;
        int nanos = digits(s, 20, fraction);
        for (int i = fraction; i < 9; i++) nanos *= 10;
        return nanos;
    }

    /** @param truncate below-microsecond digits are dropped, not refused (the caller takes the nanoseconds itself) */
    private static long parseCommonMicros(String s, boolean truncate) {
        int n = s.length();
        if (n < 20
                || n > 30
                || s.charAt(n - 1) != 'Z'
                || s.charAt(4) != '-'
                || s.charAt(7) != '-'
                || s.charAt(10) != 'T'
                || s.charAt(13) != ':'
                || s.charAt(16) != ':') return NOT_COMMON;
        int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
        int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
        if ((year | month | day | hour | minute | second) < 0) return NOT_COMMON;
        if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NOT_COMMON;
        if (hour > 23 || minute > 59 || second > 59) return NOT_COMMON;
        int nanos = 0;
        if (n > 20) {
            int fraction = n - 21;
            if (s.charAt(19) != '.' || fraction < 1 || fraction > 9) return NOT_COMMON;
            nanos = digits(s, 20, fraction);
            if (nanos < 0) return NOT_COMMON;
            for (int i = fraction; i < 9; i++) nanos *= 10;
        }
        if (!truncate && nanos % 1000 != 0) return FINER_THAN_MICROS;
        long seconds = epochDay(year, month, day) * 86_400L + hour * 3_600L + minute * 60L + second;
        return seconds * 1_000_000L + nanos / 1000;
    }

    /** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
    static long epochDay(int year, int month, int day) {
        int y = month <= 2 ? year - 1 : year;
        int era = Math.floorDiv(y, 400);
        int yoe = y - era * 400;
        int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097L + doe - 719_468L;
    }

    private static int daysInMonth(int year, int month) {
        if (month != 2) return DAYS_IN_MONTH[month - 1];
        boolean leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        return leap ? 29 : 28;
    }

    private static int digits(String s, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /**
     * Writes the instant as {@code yyyy-MM-ddTHH:mm:ss[.ffffff]Z} (microseconds, trailing zero groups dropped like
     * {@link Instant#toString}) into {@code out} at {@code at}, for years 0-9999; returns the end position, or -1
     * for an instant outside those years or with sub-microsecond digits (use {@link Instant#toString}). {@code out}
     * needs 30 free bytes.
     */
    public static int formatMicros(Instant instant, byte[] out, int at) {
        long seconds = instant.getEpochSecond();
        int nanos = instant.getNano();
        if (nanos % 1000 != 0) return -1;
        long day = Math.floorDiv(seconds, 86_400L);
        int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
        // civil_from_days
        long z = day + 719_468L;
        long era = Math.floorDiv(z, 146_097L);
        int doe = (int) (z - era * 146_097L);
        int yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int mp = (5 * doy + 2) / 153;
        int d = doy - (153 * mp + 2) / 5 + 1;
        int m = mp < 10 ? mp + 3 : mp - 9;
        long y = yoe + era * 400 + (m <= 2 ? 1 : 0);
        if (y < 0 || y > 9999) return -1;
        put(out, at, (int) y, 4);
        out[at + 4] = '-';
        put(out, at + 5, m, 2);
        out[at + 7] = '-';
        put(out, at + 8, d, 2);
        out[at + 10] = 'T';
        put(out, at + 11, secondOfDay / 3600, 2);
        out[at + 13] = ':';
        put(out, at + 14, secondOfDay / 60 % 60, 2);
        out[at + 16] = ':';
        put(out, at + 17, secondOfDay % 60, 2);
        int end = at + 19;
        if (nanos != 0) {
            out[end] = '.';
            int micros = nanos / 1000;
            if (micros % 1000 == 0) {
                put(out, end + 1, micros / 1000, 3);
                end += 4;
            } else {
                put(out, end + 1, micros, 6);
                end += 7;
            }
        }
        out[end] = 'Z';
        return end + 1;
    }

    private static void put(byte[] out, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            out[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
    }
}
