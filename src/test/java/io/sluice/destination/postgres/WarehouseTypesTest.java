package io.sluice.destination.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.destination.postgres.Value.Kind;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** Type inference for JSON values and the widening rule for conflicting ones. */
class WarehouseTypesTest {

    @Test
    void valuesGetTheNarrowestTypeThatHoldsThemExactly() {
        assertThat(of("true")).isEqualTo(new Value(Kind.BOOLEAN, "true", "true"));
        assertThat(of("42").kind()).isEqualTo(Kind.INT);
        assertThat(of("9007199254740992").kind()).isEqualTo(Kind.INT);
        assertThat(of("9007199254740993").kind()).isEqualTo(Kind.BIG_INT);
        assertThat(of("-9223372036854775808").kind()).isEqualTo(Kind.BIG_INT);
        assertThat(of("123456789012345678901234567890")).isEqualTo(Value.text("123456789012345678901234567890"));
        assertThat(of("4.5")).isEqualTo(new Value(Kind.DOUBLE, "4.5", "4.5"));
        assertThat(of("[1,\"a\",{\"b\":null}]")).isEqualTo(Value.text("[1,\"a\",{\"b\":null}]"));
        assertThat(of("\"hello\"").kind()).isEqualTo(Kind.TEXT);
        assertThat(of("null")).isNull();
    }

    @Test
    void isoTimestampsAreTimestampsAndKeepTheirOriginalTextForTextColumns() {
        Value utc = of("\"2026-03-01T12:00:00.123Z\"");
        assertThat(utc).isEqualTo(new Value(Kind.TIMESTAMP, "2026-03-01T12:00:00.123Z", "2026-03-01T12:00:00.123Z"));
        Value offset = of("\"2026-03-01T14:00:00+02:00\"");
        assertThat(offset.render(ColumnType.TIMESTAMPTZ)).isEqualTo("2026-03-01T12:00:00Z");
        assertThat(offset.render(ColumnType.TEXT)).isEqualTo("2026-03-01T14:00:00+02:00");
        assertThat(of("\"2026-03-01T12:00:00\"").typed()).isEqualTo("2026-03-01T12:00:00Z"); // no zone: UTC
        assertThat(of("\"2026-03-01T12:00:00.123456Z\"").kind()).isEqualTo(Kind.TIMESTAMP);
        // what timestamptz cannot hold exactly, or is not a date-time, stays text
        assertThat(of("\"2026-03-01T12:00:00.123456789Z\"").kind()).isEqualTo(Kind.TEXT);
        assertThat(of("\"0000-01-01T00:00:00Z\"").kind()).isEqualTo(Kind.TEXT);
        assertThat(of("\"2026-13-01T00:00:00Z\"").kind()).isEqualTo(Kind.TEXT);
        assertThat(of("\"2026-03-01\"").kind()).isEqualTo(Kind.TEXT);
        assertThat(of("\"2026-03-01 12:00:00\"").kind()).isEqualTo(Kind.TEXT);
        assertThat(of("\"yesterday\"").kind()).isEqualTo(Kind.TEXT);
    }

    @Test
    void nulIsTheOnlyCharacterWrittenDifferently() {
        assertThat(of("\"a\\u0000b\"").text()).isEqualTo("a\\u0000b");
        assertThat(of("\"tab\\t quote\\\" é 🎉\"").text()).isEqualTo("tab\t quote\" é 🎉");
    }

    @Test
    void newColumnsTakeTheNarrowestTypeForAllTheirValues() {
        assertThat(ColumnType.forNew(EnumSet.of(Kind.BOOLEAN))).isEqualTo(ColumnType.BOOLEAN);
        assertThat(ColumnType.forNew(EnumSet.of(Kind.INT, Kind.BIG_INT))).isEqualTo(ColumnType.BIGINT);
        assertThat(ColumnType.forNew(EnumSet.of(Kind.INT, Kind.DOUBLE))).isEqualTo(ColumnType.DOUBLE);
        assertThat(ColumnType.forNew(EnumSet.of(Kind.BIG_INT, Kind.DOUBLE))).isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.forNew(EnumSet.of(Kind.TIMESTAMP))).isEqualTo(ColumnType.TIMESTAMPTZ);
        assertThat(ColumnType.forNew(EnumSet.of(Kind.TIMESTAMP, Kind.TEXT))).isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.forNew(EnumSet.of(Kind.BOOLEAN, Kind.INT))).isEqualTo(ColumnType.TEXT);
    }

    @Test
    void existingColumnsOnlyWiden() {
        assertThat(ColumnType.BIGINT.widenedFor(EnumSet.of(Kind.INT))).isEqualTo(ColumnType.BIGINT);
        assertThat(ColumnType.BIGINT.widenedFor(EnumSet.of(Kind.DOUBLE))).isEqualTo(ColumnType.DOUBLE);
        assertThat(ColumnType.BIGINT.widenedFor(EnumSet.of(Kind.DOUBLE, Kind.BIG_INT)))
                .isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.BIGINT.widenedFor(EnumSet.of(Kind.TEXT))).isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.DOUBLE.widenedFor(EnumSet.of(Kind.INT))).isEqualTo(ColumnType.DOUBLE);
        assertThat(ColumnType.DOUBLE.widenedFor(EnumSet.of(Kind.BIG_INT))).isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.TIMESTAMPTZ.widenedFor(EnumSet.of(Kind.TEXT))).isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.BOOLEAN.widenedFor(EnumSet.of(Kind.INT))).isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.TEXT.widenedFor(EnumSet.allOf(Kind.class))).isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.OTHER.widenedFor(EnumSet.of(Kind.INT))).isEqualTo(ColumnType.TEXT);
        assertThat(ColumnType.fromDataType("numeric")).isEqualTo(ColumnType.OTHER);
    }

    private static Value of(String json) {
        try {
            JsonNode node = WarehouseFixture.JSON.readTree(json);
            return Value.of(node);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
