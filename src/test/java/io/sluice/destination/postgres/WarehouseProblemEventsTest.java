package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.WarehouseFixture.identify;
import static io.sluice.destination.postgres.WarehouseFixture.track;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.Destination;
import io.sluice.support.TestPostgres;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The problem events of issue 22, each next to an innocent event of another user that must load with it. */
class WarehouseProblemEventsTest {
    private static WarehouseFixture warehouse;

    @BeforeAll
    static void start() {
        warehouse = new WarehouseFixture("warehouse_problems");
    }

    @AfterAll
    static void stop() {
        warehouse.close();
    }

    @Test
    void namesOfOneKindNeverTakeTheNameOfAnotherKind() throws Exception {
        warehouse.deliver("kinds", track("k1", "u1", "timestamp", "{\"n\":1}"), track("k2", "u1", "id", "{}"));
        warehouse.deliver(
                "kinds",
                identify(
                        "k3",
                        "real-user",
                        "2026-03-01T12:00:00Z",
                        "{\"\\u001etimestamp\":\"text\",\"\\u001eid\":\"pzx-hijacked\",\"plan\":\"pro\"}"));
        warehouse.deliver("kinds", identify("k4", "real-user", "2026-03-02T12:00:00Z", "{\"plan\":\"max\"}"));
        assertThat(warehouse.columns("kinds", "users")).containsEntry("timestamp", "timestamp with time zone");
        assertThat(warehouse.rows("SELECT id, plan FROM kinds.users"))
                .containsExactly(Map.of("id", "real-user", "plan", "max"));
        assertThat(warehouse.tables("kinds")).contains("timestamp", "id", "identifies", "users");
        assertThat(warehouse.rows(
                        "SELECT column_name FROM kinds._sluice_columns WHERE table_name = 'users'"
                                + " AND original_name = ?",
                        "[\"\\u001eid\"]"))
                .singleElement()
                .satisfies(row -> assertThat((String) row.get("column_name")).matches("_id_[0-9a-f]{8}"));
    }

    @Test
    void systemColumnsAndRelationNamesLoadWithTheirBatch() throws Exception {
        assertThat(warehouse
                        .deliver(
                                "reserved",
                                track(
                                        "r1",
                                        "u1",
                                        "Tracks Pkey",
                                        "{\"xmin\":1,\"XMAX\":2,\"Ctid\":\"c\",\"tableoid\":3}"),
                                track("r2", "u2", "Innocent", "{\"ok\":true}"))
                        .allDelivered())
                .isTrue();
        assertThat(warehouse.count("reserved", "innocent")).isEqualTo(1);
        String table = Identifiers.eventTable("Tracks Pkey");
        assertThat(table).isNotEqualTo("tracks_pkey");
        assertThat(warehouse.rows("SELECT _xmin, _xmax, _ctid, _tableoid FROM reserved." + Identifiers.quote(table)))
                .containsExactly(Map.of("_xmin", 1L, "_xmax", 2L, "_ctid", "c", "_tableoid", 3L));
    }

    @Test
    void aNameLikeAnothersHashedFormHasItsOwnColumn() throws Exception {
        warehouse.deliver("hashes", track("h1", "u1", "Clicked", "{\"a-b\":1,\"a_b_7f34949e\":2}"));
        warehouse.deliver("hashes", track("h2", "u1", "Clicked", "{\"a_b_7f34949e\":3}"));
        assertThat(warehouse.rows("SELECT original_name, column_name FROM hashes._sluice_columns"
                        + " WHERE table_name = 'clicked' AND kind = 'property' ORDER BY 1"))
                .hasSize(2)
                .extracting(row -> row.get("column_name"))
                .doesNotHaveDuplicates();
        assertThat(warehouse.rows("SELECT a_b_7f34949e FROM hashes.clicked ORDER BY id"))
                .containsExactly(Map.of("a_b_7f34949e", 1L), Map.of());
    }

    @Test
    void longAndOddIdsAreStoredOnceEachAndAreIdempotent() throws Exception {
        String longId = "m-" + "x".repeat(10_000);
        List<ObjectNode> events = List.of(
                track(longId, "u1", "Clicked", "{}"),
                track("nul\u0000", "u1", "Clicked", "{}"),
                track("nul\\u0000", "u1", "Clicked", "{}"),
                track("sha256:abc", "u1", "Clicked", "{}"),
                track("innocent", "u2", "Clicked", "{}"));
        warehouse.destination.deliver(WarehouseFixture.batch("ids", events));
        warehouse.destination.deliver(WarehouseFixture.batch("ids", events)); // again: the staged path
        assertThat(warehouse.count("ids", "clicked")).isEqualTo(5);
        assertThat(warehouse.rows("SELECT _sluice_message_id FROM ids.clicked WHERE id LIKE 'sha256:%' ORDER BY 1"))
                .extracting(row -> row.get("_sluice_message_id"))
                .containsExactlyInAnyOrder(longId, "nul\\u0000", "sha256:abc");
        assertThat(warehouse.scalar("SELECT count(*) FROM ids.clicked WHERE id = 'nul\\u0000'"))
                .isEqualTo(1L);
    }

    @Test
    void anIdentifyWithAnEmptyUserIdHasNoUsersRow() throws Exception {
        warehouse.deliver(
                "empty",
                identify("e1", "", "2026-03-01T12:00:00Z", "{\"plan\":\"pro\"}"),
                identify("e2", "u1", "2026-03-01T12:00:00Z", "{\"plan\":\"max\"}"));
        assertThat(warehouse.rows("SELECT id FROM empty.users")).containsExactly(Map.of("id", "u1"));
        assertThat(warehouse.rows("SELECT id, user_id FROM empty.identifies ORDER BY id"))
                .containsExactly(Map.of("id", "e1"), Map.of("id", "e2", "user_id", "u1"));
    }

    @Test
    void nulIsEscapedInColumnsAndTheEventIsKeptExactly() throws Exception {
        ObjectNode nul = track("n1", "u1", "Texts", "{\"v\":\"a\\u0000b\"}");
        ObjectNode literal = track("n2", "u1", "Texts", "{\"v\":\"a\\\\u0000b\"}");
        warehouse.deliver("nul", nul, literal);
        assertThat(warehouse.rows("SELECT id, v FROM nul.texts ORDER BY id"))
                .containsExactly(Map.of("id", "n1", "v", "a\\u0000b"), Map.of("id", "n2", "v", "a\\u0000b"));
        String raw = (String) warehouse.scalar("SELECT _sluice_raw FROM nul.texts WHERE id = 'n1'");
        assertThat(WarehouseFixture.JSON.readTree(raw)).isEqualTo(nul);
        assertThat(warehouse.rows("SELECT _sluice_raw FROM nul.texts WHERE id = 'n2'"))
                .containsExactly(Map.of());
    }

    @Test
    void newNamesBeyondTheBudgetGoToTheOverflowColumnAndNewEventsKeepLoading() throws Exception {
        try (Destination small = new WarehouseDestination(
                "small", warehouse.url, TestPostgres.USER, "", 1, 10_000, 20, Clock.systemUTC())) {
            small.open();
            for (int t = 0; t < 3; t++) {
                ObjectNode e = track("b" + t, "u1", "Tracked", "{}");
                ObjectNode context = (ObjectNode) e.get("context");
                for (int k = 0; k < 30; k++) context.put("key" + t + "_" + k, k);
                WarehouseFixture.deliverAsWorker(small, WarehouseFixture.batch("budget", List.of(e)));
            }
            WarehouseFixture.deliverAsWorker(
                    small,
                    WarehouseFixture.batch(
                            "budget", List.of(track("b9", "u2", "Tracked", "{\"brand_new\":\"still loads\"}"))));
            assertThat(warehouse.columns("budget", "tracked").size()).isLessThanOrEqualTo(21);
            assertThat(warehouse.count("budget", "tracked")).isEqualTo(4);
            assertThat(warehouse.scalar("SELECT column_name FROM budget._sluice_columns"
                            + " WHERE table_name = 'tracked' AND original_name = '[\"brand_new\"]'"))
                    .isEqualTo("_sluice_extra");
            assertThat(warehouse.scalar(
                            "SELECT _sluice_extra #>> '{properties,brand_new}' FROM budget.tracked WHERE id = 'b9'"))
                    .isEqualTo("still loads");
            assertThat(warehouse.scalar(
                            "SELECT _sluice_extra #>> '{context,key2_29}' FROM budget.tracked WHERE id = 'b2'"))
                    .isEqualTo("29");
        }
    }

    @Test
    void aSchemaChangedUnderTheLoadIsAConflictThatTheNextDeliveryResolves() throws Exception {
        warehouse.deliver("conflict", track("c1", "u1", "Rated", "{\"score\":5}"));
        warehouse.execute("DROP TABLE conflict.rated");
        assertThatThrownBy(() -> warehouse.destination.deliver(
                        WarehouseFixture.batch("conflict", List.of(track("c2", "u1", "Rated", "{\"score\":4}")))))
                .isInstanceOfSatisfying(
                        DeliveryException.class,
                        e -> assertThat(e.failureClass()).isEqualTo(FailureClass.CONFLICT));
        warehouse.destination.deliver(
                WarehouseFixture.batch("conflict", List.of(track("c2", "u1", "Rated", "{\"score\":4}"))));
        assertThat(warehouse.rows("SELECT id, score FROM conflict.rated"))
                .containsExactly(Map.of("id", "c2", "score", 4L));
    }
}
