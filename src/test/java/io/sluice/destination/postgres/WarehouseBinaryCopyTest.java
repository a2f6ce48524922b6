package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.WarehouseFixture.track;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.destination.Destination;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The direct load writes binary COPY ({@link BinaryOut}): every value must be stored as PostgreSQL would have stored
 * the text the CSV path sends (the value's typed form for typed columns, its text for text columns). Checked value by
 * value by the server itself: the stored value {@code IS NOT DISTINCT FROM} the CSV text cast to the column's type.
 */
class WarehouseBinaryCopyTest {
    private static WarehouseFixture warehouse;

    @BeforeAll
    static void start() {
        warehouse = new WarehouseFixture("binary_copy");
    }

    @AfterAll
    static void stop() {
        warehouse.close();
    }

    @Test
    void everyValueIsStoredAsTheServerWouldParseItsCsvText() throws Exception {
        Random random = new Random(26);
        List<ObjectNode> events = new ArrayList<>();
        List<String> edgeDoubles = List.of(
                "0.1", "-0.0", "1.7976931348623157E308", "4.9E-324", "2.2250738585072014E-308", "1.0E21", "123.456");
        List<String> edgeTimestamps = List.of(
                "0001-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999Z",
                "1969-12-31T23:59:59.999999Z",
                "2000-01-01T00:00:00Z",
                "1999-12-31T23:59:59.000001Z",
                "2024-05-01T12:00:00+05:30",
                "2024-05-01T12:00:00.5-08:00",
                "2024-05-01T12:00:00");
        List<String> edgeTexts = List.of(
                "", "quote \" comma , newline \n tab \t backslash \\ \\.", "é 中文 🎉", "lone \uD800 surrogate", "\\N");
        for (int i = 0; i < 300; i++) {
            ObjectNode e = track("bin-" + i, "u" + (i % 7), "Binary Copy", "{}");
            ObjectNode p = (ObjectNode) e.get("properties");
            p.put("flag", random.nextBoolean());
            p.put("whole", i < 4 ? new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1}[i] : random.nextLong());
            p.set(
                    "fraction",
                    WarehouseFixture.parse("{\"v\":"
                                    + (i < edgeDoubles.size()
                                            ? edgeDoubles.get(i)
                                            : Double.toString(randomDouble(random)))
                                    + "}")
                            .get("v"));
            // integers within ±2^53 and fractions share a double precision column
            if (i % 2 == 0) p.put("mixed", random.nextInt());
            else p.put("mixed", random.nextDouble() * 1e6);
            p.put("at", i < edgeTimestamps.size() ? edgeTimestamps.get(i) : randomTimestamp(random));
            p.put("label", i < edgeTexts.size() ? edgeTexts.get(i) : "text " + random.nextInt());
            // timestamps and numbers in one column: text, holding each value as sent
            p.put("loose", i % 3 == 0 ? randomTimestamp(random) : "v" + i);
            if (i % 5 == 0) p.putNull("sometimes");
            else p.put("sometimes", i);
            events.add(e);
        }
        Instant before = Instant.now();
        warehouse.deliver("bin", events.toArray(ObjectNode[]::new));

        Map<String, String> columns = warehouse.columns("bin", "binary_copy");
        assertThat(columns)
                .containsEntry("flag", "boolean")
                .containsEntry("whole", "bigint")
                .containsEntry("fraction", "double precision")
                .containsEntry("mixed", "double precision")
                .containsEntry("at", "timestamp with time zone")
                .containsEntry("label", "text")
                .containsEntry("loose", "text");
        int checked = 0;
        for (ObjectNode e : events) {
            String id = e.get("messageId").textValue();
            ObjectNode p = (ObjectNode) e.get("properties");
            for (String column : List.of("flag", "whole", "fraction", "mixed", "at", "label", "loose", "sometimes")) {
                Value value = Value.of(p.get(column));
                String type = columns.get(column);
                String csvText = value == null ? null : type.equals("text") ? value.text() : value.typed();
                Object same = warehouse.scalar(
                        "SELECT " + Identifiers.quote(column) + " IS NOT DISTINCT FROM CAST(? AS " + type
                                + ") FROM bin.binary_copy WHERE id = ?",
                        csvText,
                        id);
                assertThat(same).as("%s of %s (%s)", column, id, csvText).isEqualTo(true);
                checked++;
            }
            Object receivedAt = warehouse.scalar(
                    "SELECT received_at = CAST(? AS timestamptz) FROM bin.tracks WHERE id = ?",
                    e.get("receivedAt").textValue(),
                    id);
            assertThat(receivedAt).isEqualTo(true);
        }
        assertThat(checked).isEqualTo(300 * 8);
        // uuid_ts: the load transaction's now(), one value for every row of the batch, in both tables
        assertThat(warehouse.scalar("SELECT count(DISTINCT uuid_ts) FROM bin.tracks"))
                .isEqualTo(1L);
        assertThat(
                        warehouse.scalar(
                                "SELECT count(*) FROM bin.binary_copy b JOIN bin.tracks t USING (id) WHERE b.uuid_ts = t.uuid_ts"))
                .isEqualTo(300L);
        Object uuidTs = warehouse.scalar("SELECT extract(epoch FROM max(uuid_ts))::float8 FROM bin.tracks");
        assertThat(((Number) uuidTs).doubleValue())
                .isBetween(before.getEpochSecond() - 60.0, before.getEpochSecond() + 600.0);
    }

    @Test
    void aColumnAnotherWorkerWidenedIsNeverWrittenInTheCachedType() throws Exception {
        // bigint and double precision are both eight bytes in binary: written by a stale cache, 4 would be read
        // back as 2.0E-323 without any error, so the load checks the types under its table locks first
        Destination second = warehouse.newDestination();
        warehouse.deliver("widened", track("w1", "u1", "Scored", "{\"score\":5,\"at\":\"2026-03-01T10:00:00Z\"}"));
        WarehouseFixture.deliverAsWorker(
                second,
                WarehouseFixture.batch(
                        "widened", List.of(track("w2", "u1", "Scored", "{\"score\":1.5,\"at\":\"soon\"}"))));
        assertThat(warehouse.columns("widened", "scored"))
                .containsEntry("score", "double precision")
                .containsEntry("at", "text");
        // the first destination still believes score is bigint and at is a timestamp
        warehouse.deliver("widened", track("w3", "u1", "Scored", "{\"score\":4,\"at\":\"2026-03-01T11:00:00Z\"}"));
        assertThat(warehouse.rows("SELECT id, score, at FROM widened.scored ORDER BY id"))
                .containsExactly(
                        // (widening converts the stored timestamp to text as PostgreSQL writes it: not this change)
                        Map.of("id", "w1", "score", 5.0, "at", "2026-03-01T10:00:00+00:00"),
                        Map.of("id", "w2", "score", 1.5, "at", "soon"),
                        Map.of("id", "w3", "score", 4.0, "at", "2026-03-01T11:00:00Z"));
    }

    /** Any finite double, by its bits: tiny, huge, subnormal, negative. */
    private static double randomDouble(Random random) {
        while (true) {
            double d = Double.longBitsToDouble(random.nextLong());
            if (Double.isFinite(d)) return d;
        }
    }

    private static String randomTimestamp(Random random) {
        long second = random.nextLong(-62_135_596_800L, 253_402_300_799L); // years 0001-9999
        int micros = random.nextInt(1_000_000);
        Instant at = Instant.ofEpochSecond(second, micros * 1_000L);
        return switch (random.nextInt(3)) {
            case 0 -> at.toString();
            case 1 ->
                OffsetDateTime.ofInstant(at, ZoneOffset.ofHours(random.nextInt(-12, 14)))
                        .toString();
            default -> Instant.ofEpochSecond(second).toString();
        };
    }
}
