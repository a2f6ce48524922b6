package io.sluice.destination.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.event.IsoTimestamps;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The hand-written timestamp paths give exactly what the DateTimeFormatter paths give. */
class ValueTimestampTest {
    private static final long MIN = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    private static final long MAX = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();

    @Test
    void theFastPathParsesRandomInstantsLikeTheGeneralParser() {
        Random random = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            Instant at = Instant.ofEpochSecond(random.nextLong(MIN, MAX + 1), nanos(random));
            String text = at.toString();
            assertThat(Value.parseTimestamp(text)).as(text).isEqualTo(Value.parseSlow(text));
            assertThat(Value.of(WarehouseFixture.JSON.getNodeFactory().textNode(text))
                            .kind())
                    .as(text)
                    .isEqualTo(Value.parseSlow(text) == null ? Value.Kind.TEXT : Value.Kind.TIMESTAMP);
            assertThat(IsoTimestamps.parseCommon(text)).as(text).isEqualTo(at);
            Value value = Value.of(WarehouseFixture.JSON.getNodeFactory().textNode(text));
            if (value.kind() == Value.Kind.TIMESTAMP)
                assertThat(value.micros()).as(text).isEqualTo(micros(at));
            if (at.getNano() % 1000 == 0 && !text.startsWith("0000")) {
                byte[] out = new byte[40];
                int end = IsoTimestamps.formatMicros(at, out, 0);
                assertThat(new String(out, 0, end)).isEqualTo(text);
            }
        }
    }

    @Test
    void edgeCasesParseLikeTheGeneralParser() {
        for (String text : List.of(
                "2024-02-29T12:00:00Z",
                "2023-02-29T12:00:00Z",
                "1900-02-29T00:00:00Z",
                "2000-02-29T00:00:00Z",
                "2024-04-31T00:00:00Z",
                "2024-13-01T00:00:00Z",
                "2024-00-01T00:00:00Z",
                "2024-01-00T00:00:00Z",
                "2024-01-01T24:00:00Z",
                "2024-01-01T23:60:00Z",
                "2024-01-01T23:59:60Z",
                "0000-01-01T00:00:00Z",
                "0001-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999Z",
                "9999-12-31T23:59:59.999999999Z",
                "2024-01-01T00:00:00.Z",
                "2024-01-01T00:00:00.1234567890Z",
                "2024-01-01T00:00:00.123456000Z",
                "2024-01-01T00:00:00.1234567Z",
                "2024-01-01T00:00:00.1Z",
                "2024-01-01t00:00:00Z",
                "2024-01-01T00:00:00z",
                "2024-01-01T00:00:00+02:00",
                "2024-01-01T00:00:00.5-03:30",
                "2024-01-01T00:00:00",
                "2024-01-01T00:00Z",
                "2024-01-01T0a:00:00Z",
                "+2024-01-01T00:00:00Z",
                "-001-01-01T00:00:00Z",
                "2024-01-01T00:00:00ZZ",
                "2024-01-01 00:00:00Z",
                "2024-1-01T00:00:00Z")) {
            assertThat(Value.parseTimestamp(text)).as(text).isEqualTo(Value.parseSlow(text));
            Value value = Value.of(WarehouseFixture.JSON.getNodeFactory().textNode(text));
            Instant slow = Value.parseSlow(text);
            if (slow != null) assertThat(value.micros()).as(text).isEqualTo(micros(slow));
            Instant common = IsoTimestamps.parseCommon(text);
            if (common != null) assertThat(common).as(text).isEqualTo(Instant.parse(text));
        }
    }

    private static long micros(Instant at) {
        return at.getEpochSecond() * 1_000_000L + at.getNano() / 1_000;
    }

    @Test
    void fastPathValuesKeepTheTextAsSentAndItIsTheSameInstant() {
        Value value = Value.of(WarehouseFixture.JSON.getNodeFactory().textNode("2026-03-01T12:00:00.120Z"));
        assertThat(value.kind()).isEqualTo(Value.Kind.TIMESTAMP);
        assertThat(value.text()).isEqualTo("2026-03-01T12:00:00.120Z");
        assertThat(Instant.parse(value.typed())).isEqualTo(Instant.parse("2026-03-01T12:00:00.12Z"));
    }

    private static int nanos(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1000;
            default -> random.nextInt(1_000_000_000);
        };
    }
}
