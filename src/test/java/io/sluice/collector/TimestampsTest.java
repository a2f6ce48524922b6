package io.sluice.collector;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The hand-written fast paths agree with java.time on every input they accept, and hand the rest over. */
class TimestampsTest {

    @Test
    void fastParseAndFormatAgreeWithJavaTime() {
        SplittableRandom random = new SplittableRandom(42);
        DateTimeFormatter millis =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
        for (int i = 0; i < 100_000; i++) {
            Instant instant = Instant.ofEpochSecond(
                    random.nextLong(-62_135_596_800L, 253_402_300_799L), random.nextInt(1_000_000_000));
            Instant truncated = instant.truncatedTo(ChronoUnit.MILLIS);
            assertThat(Timestamps.format(instant)).isEqualTo(millis.format(instant));
            assertThat(Timestamps.parse(Timestamps.format(instant))).isEqualTo(truncated);
            assertThat(Timestamps.parse(instant.toString())).isEqualTo(instant);
        }
    }

    @Test
    void everyOtherShapeStillParsesThroughJavaTime() {
        assertThat(Timestamps.parse("2026-03-01T12:00:00+02:00"))
                .isEqualTo(OffsetDateTime.parse("2026-03-01T12:00:00+02:00").toInstant());
        assertThat(Timestamps.parse("2026-03-01T12:00:00")).isEqualTo(Instant.parse("2026-03-01T12:00:00Z"));
        assertThat(Timestamps.parse("2026-03-01T12:00:00.123456789Z"))
                .isEqualTo(Instant.parse("2026-03-01T12:00:00.123456789Z"));
        assertThat(Timestamps.parse("2026-02-30T12:00:00Z")).isNull();
        assertThat(Timestamps.parse("2026-03-01T24:00:00Z")).isNull();
        assertThat(Timestamps.parse("2026-03-01 12:00:00Z")).isNull();
        assertThat(Timestamps.parse("yesterday")).isNull();
    }
}
