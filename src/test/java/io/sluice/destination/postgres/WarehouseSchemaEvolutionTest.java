package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.WarehouseFixture.track;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.destination.Destination;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** New fields add columns, conflicting values widen columns without loss, odd names stay apart, workers race safely. */
class WarehouseSchemaEvolutionTest {
    private static WarehouseFixture warehouse;

    @BeforeAll
    static void start() {
        warehouse = new WarehouseFixture("warehouse_evolution");
    }

    @AfterAll
    static void stop() {
        warehouse.close();
    }

    @Test
    void aNewPropertyAddsAColumn() throws Exception {
        warehouse.deliver("evo", track("e1", "u1", "Played", "{\"song\":\"a\"}"));
        assertThat(warehouse.columns("evo", "played")).containsKey("song").doesNotContainKey("volume");
        warehouse.deliver(
                "evo",
                track(
                        "e2",
                        "u1",
                        "Played",
                        "{\"song\":\"b\",\"volume\":11,\"at\":\"2026-01-02T03:04:05.123456+02:00\",\"loud\":true}"));
        assertThat(warehouse.columns("evo", "played"))
                .containsEntry("volume", "bigint")
                .containsEntry("at", "timestamp with time zone")
                .containsEntry("loud", "boolean");
        assertThat(
                        warehouse.rows(
                                "SELECT song, volume, loud, at = '2026-01-02T01:04:05.123456Z' AS at_ok FROM evo.played ORDER BY id"))
                .containsExactly(Map.of("song", "a"), Map.of("song", "b", "volume", 11L, "loud", true, "at_ok", true));
    }

    @Test
    void conflictingValuesWidenTheColumnAndLoseNothing() throws Exception {
        warehouse.deliver(
                "conf",
                track(
                        "c1",
                        "u1",
                        "Measured",
                        "{\"n\":42,\"m\":1,\"big\":9007199254740993,\"t\":\"2026-01-01T00:00:00Z\",\"b\":true}"));
        assertThat(warehouse.columns("conf", "measured"))
                .containsEntry("n", "bigint")
                .containsEntry("m", "bigint")
                .containsEntry("big", "bigint")
                .containsEntry("t", "timestamp with time zone")
                .containsEntry("b", "boolean");

        // bigint then a string: the column becomes text, 42 keeps its text form
        warehouse.deliver("conf", track("c2", "u1", "Measured", "{\"n\":\"abc\"}"));
        // then a float into that text column; bigint + float → double precision; an integer beyond 2^53 + float → text
        warehouse.deliver(
                "conf", track("c3", "u1", "Measured", "{\"n\":4.5,\"m\":2.5,\"big\":1.5,\"t\":\"soon\",\"b\":7}"));

        assertThat(warehouse.columns("conf", "measured"))
                .containsEntry("n", "text")
                .containsEntry("m", "double precision")
                .containsEntry("big", "text")
                .containsEntry("t", "text")
                .containsEntry("b", "text");
        assertThat(warehouse.rows("SELECT id, n, m, big, t, b FROM conf.measured ORDER BY id"))
                .containsExactly(
                        row(
                                "id",
                                "c1",
                                "n",
                                "42",
                                "m",
                                1.0,
                                "big",
                                "9007199254740993",
                                "t",
                                "2026-01-01T00:00:00+00:00",
                                "b",
                                "true"),
                        row("id", "c2", "n", "abc"),
                        row("id", "c3", "n", "4.5", "m", 2.5, "big", "1.5", "t", "soon", "b", "7"));

        // one batch bringing both kinds at once into a fresh column
        warehouse.deliver(
                "conf",
                track("c4", "u1", "Mixed", "{\"x\":1}"),
                track("c5", "u1", "Mixed", "{\"x\":\"one\"}"),
                track("c6", "u1", "Mixed", "{\"y\":1}"),
                track("c7", "u1", "Mixed", "{\"y\":0.5}"));
        assertThat(warehouse.columns("conf", "mixed"))
                .containsEntry("x", "text")
                .containsEntry("y", "double precision");
        assertThat(warehouse.rows("SELECT x, y FROM conf.mixed ORDER BY id"))
                .containsExactly(row("x", "1"), row("x", "one"), row("y", 1.0), row("y", 0.5));
    }

    @Test
    void oddNamesAreMadeSafeAndNeverMerge() throws Exception {
        String longName = "Very Long Event Name ".repeat(5).substring(0, 100);
        ObjectNode e = track("o1", "u1", longName, """
                {"select":1,"user":"u","order":{"id":7},"a-b":1,"a_b":2,"a.b":3,"a":{"b":4},"Prénom":"Zoë","":"empty",
                 "1st":"first","id":"property id","context_ip":"spoofed","quote\\"d":"q","emoji 🎉":"🎉"}""");
        warehouse.deliver("odd", e, track("o2", "u1", "select", "{\"from\":\"x\"}"), track("o3", "u1", "Users", "{}"));

        String table = Identifiers.eventTable(longName);
        assertThat(table).hasSize(63);
        assertThat(warehouse.tables("odd"))
                .contains(table, "_select", "_users", "tracks")
                .doesNotContain("users");
        Map<String, Object> row =
                warehouse.rows("SELECT * FROM odd." + Identifiers.quote(table)).getFirst();
        assertThat(row)
                .containsEntry("_select", 1L)
                .containsEntry("_user", "u")
                .containsEntry("order_id", 7L)
                .containsEntry("a_b", 2L)
                .containsEntry("_1st", "first")
                .containsEntry("_id", "property id")
                .containsEntry("_context_ip", "spoofed")
                .containsEntry("context_ip", "203.0.113.9")
                .containsEntry("id", "o1")
                .containsEntry("event_text", longName);
        // a-b, a.b, Prénom, "" and the nested a.b each have a column of their own: nothing overwritten
        assertThat(row.values()).contains(1L, 3L, 4L, "Zoë", "empty", "q", "🎉");
        assertThat(row.keySet()).anyMatch(k -> k.matches("prenom_[0-9a-f]{8}")).allMatch(k -> k.length() <= 63);
        assertThat(warehouse.rows("SELECT _from FROM odd._select")).containsExactly(Map.of("_from", "x"));
        assertThat(warehouse.scalar("SELECT event FROM odd.tracks WHERE id = 'o1'"))
                .isEqualTo(table);
    }

    @Test
    void twoWorkersLoadingIntoAFreshSchemaAtOnceBothSucceed() throws Exception {
        Destination second = warehouse.newDestination();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 5; round++) {
                String source = "race" + round;
                List<ObjectNode> a = new ArrayList<>();
                List<ObjectNode> b = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    a.add(track(
                            "a" + round + "-" + i, "u" + i, "Event " + (i % 7), "{\"v\":" + i + ",\"only_a\":true}"));
                    b.add(track(
                            "b" + round + "-" + i,
                            "u" + i,
                            "Event " + (i % 7),
                            "{\"v\":\"s" + i + "\",\"only_b\":1.5}"));
                    if (i % 10 == 0) {
                        a.add(WarehouseFixture.identify(
                                "ia" + round + i, "u" + i, "2026-03-01T12:00:00Z", "{\"plan\":\"a\"}"));
                        b.add(WarehouseFixture.identify(
                                "ib" + round + i, "u" + i, "2026-03-01T13:00:00Z", "{\"plan\":\"b\",\"n\":1}"));
                    }
                }
                CyclicBarrier together = new CyclicBarrier(2);
                Future<?> first = threads.submit(() -> deliverAfter(together, warehouse.destination, source, a));
                Future<?> other = threads.submit(() -> deliverAfter(together, second, source, b));
                first.get();
                other.get();
                assertThat(warehouse.count(source, "tracks")).isEqualTo(400);
                assertThat(warehouse.count(source, "identifies")).isEqualTo(40);
                assertThat(warehouse.rows("SELECT DISTINCT plan FROM " + source + ".users"))
                        .containsExactly(Map.of("plan", "b"));
                assertThat(warehouse.columns(source, "event_3"))
                        .containsEntry("v", "text")
                        .containsKeys("only_a", "only_b");
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void anotherWorkersSchemaChangeOrADroppedTableIsPickedUp() throws Exception {
        Destination second = warehouse.newDestination();
        warehouse.deliver("stale", track("s1", "u1", "Rated", "{\"score\":5}"));
        WarehouseFixture.deliverAsWorker(
                second, WarehouseFixture.batch("stale", List.of(track("s2", "u1", "Rated", "{\"score\":\"great\"}"))));
        // the first destination still believes score is bigint: its insert is cast, and nothing is lost
        warehouse.deliver("stale", track("s3", "u1", "Rated", "{\"score\":4}"));
        assertThat(warehouse.rows("SELECT score FROM stale.rated ORDER BY id"))
                .containsExactly(row("score", "5"), row("score", "great"), row("score", "4"));

        // the same for users, whose merge compares stored and staged values
        warehouse.deliver("stale", WarehouseFixture.identify("s5", "u1", "2026-03-01T10:00:00Z", "{\"level\":1}"));
        WarehouseFixture.deliverAsWorker(
                second,
                WarehouseFixture.batch(
                        "stale",
                        List.of(WarehouseFixture.identify(
                                "s6", "u2", "2026-03-01T10:00:00Z", "{\"level\":\"gold\"}"))));
        warehouse.deliver("stale", WarehouseFixture.identify("s7", "u1", "2026-03-01T11:00:00Z", "{\"level\":2}"));
        assertThat(warehouse.rows("SELECT id, level FROM stale.users ORDER BY id"))
                .containsExactly(row("id", "u1", "level", "2"), row("id", "u2", "level", "gold"));

        warehouse.execute("DROP TABLE stale.rated");
        warehouse.deliver("stale", track("s4", "u1", "Rated", "{\"score\":3}"));
        assertThat(warehouse.rows("SELECT id, score FROM stale.rated")).containsExactly(row("id", "s4", "score", 3L));
    }

    @Test
    void anEventTooWideForColumnsKeepsItsPayloadInTheOverflowColumnAndItsBatchLoads() throws Exception {
        StringBuilder properties = new StringBuilder("{");
        for (int i = 0; i < 1700; i++)
            properties
                    .append(i == 0 ? "" : ",")
                    .append("\"p")
                    .append(i)
                    .append("\":")
                    .append(i);
        ObjectNode tooWide =
                track("w1", "u1", "Too Wide", properties.append('}').toString());

        // 1,700 columns would be refused (54011), and 1,700 bigints would not fit a row (54000)
        assertThat(warehouse
                        .deliver("perm", track("w0", "u1", "Fine", "{}"), tooWide)
                        .allDelivered())
                .isTrue();
        assertThat(warehouse.count("perm", "fine")).isEqualTo(1);
        assertThat(warehouse.columns("perm", "too_wide"))
                .containsEntry("_sluice_extra", "jsonb")
                .hasSizeLessThan(30);
        assertThat(warehouse.scalar("SELECT _sluice_extra #>> '{properties,p1699}' FROM perm.too_wide WHERE id = 'w1'"))
                .isEqualTo("1699");
        assertThat(warehouse.scalar(
                        "SELECT count(*) FROM perm.too_wide, jsonb_object_keys(_sluice_extra -> 'properties')"))
                .isEqualTo(1700L);
        warehouse.deliver("perm", track("w2", "u1", "Fine", "{\"ok\":true}"));
        assertThat(warehouse.count("perm", "fine")).isEqualTo(2);
    }

    @Test
    void anUnreachableWarehouseIsRetriable() throws Exception {
        try (Destination down = new WarehouseDestination(
                "down", "jdbc:postgresql://127.0.0.1:1/none", "sluice", "", 1, 500, 1_000, Clock.systemUTC())) {
            down.open();
            assertThatThrownBy(() -> down.deliver(WarehouseFixture.batch("x", List.of(track("d1", "u1", "E", "{}")))))
                    .isInstanceOfSatisfying(
                            DeliveryException.class,
                            e -> assertThat(e.isRetriable()).isTrue());
        }
    }

    private static Void deliverAfter(
            CyclicBarrier barrier, Destination destination, String source, List<ObjectNode> events) throws Exception {
        barrier.await();
        WarehouseFixture.deliverAsWorker(destination, WarehouseFixture.batch(source, events));
        return null;
    }

    private static Map<String, Object> row(Object... keysAndValues) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) row.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return row;
    }
}
