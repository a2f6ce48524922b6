package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.WarehouseFixture.event;
import static io.sluice.destination.postgres.WarehouseFixture.identify;
import static io.sluice.destination.postgres.WarehouseFixture.parse;
import static io.sluice.destination.postgres.WarehouseFixture.track;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Events of every type land in Segment's warehouse tables, on a real PostgreSQL. */
class WarehouseLoadTest {
    private static WarehouseFixture warehouse;

    @BeforeAll
    static void start() {
        warehouse = new WarehouseFixture("warehouse_load");
    }

    @AfterAll
    static void stop() {
        warehouse.close();
    }

    @Test
    void everyTypeLandsInItsTableWithSegmentsColumns() throws Exception {
        ObjectNode page = event("page", "m-page", "user-1", "2026-03-01T12:00:03.000Z")
                .put("name", "Pricing")
                .put("category", "Docs");
        page.set(
                "properties",
                parse("{\"url\":\"https://example.com/pricing\",\"title\":\"Pricing\",\"name\":\"Pricing\"}"));
        ObjectNode screen = event("screen", "m-screen", "user-1", "2026-03-01T12:00:04.000Z")
                .put("name", "Home");
        screen.set("properties", parse("{\"variant\":\"b\"}"));
        ObjectNode group =
                event("group", "m-group", "user-1", "2026-03-01T12:00:05.000Z").put("groupId", "acme");
        group.set("traits", parse("{\"name\":\"Acme Inc\",\"employees\":250}"));
        ObjectNode alias =
                event("alias", "m-alias", "user-1", "2026-03-01T12:00:06.000Z").put("previousId", "anon-42");

        warehouse.deliver(
                "web",
                track(
                        "m-track",
                        "user-1",
                        "Order Completed",
                        "{\"revenue\":42.5,\"currency\":\"EUR\",\"items\":[1,2],\"coupon\":{\"code\":\"X\"}}"),
                identify(
                        "m-identify",
                        "user-1",
                        "2026-03-01T12:00:02.000Z",
                        "{\"email\":\"ada@example.com\",\"firstName\":\"Ada\",\"plan\":\"pro\"}"),
                page,
                screen,
                group,
                alias);

        assertThat(warehouse.tables("web"))
                .containsExactlyInAnyOrder(
                        "tracks", "order_completed", "identifies", "users", "pages", "screens", "groups", "aliases");

        Map<String, String> tracks = warehouse.columns("web", "tracks");
        assertThat(tracks)
                .containsEntry("id", "text")
                .containsEntry("received_at", "timestamp with time zone")
                .containsEntry("sent_at", "timestamp with time zone")
                .containsEntry("timestamp", "timestamp with time zone")
                .containsEntry("original_timestamp", "timestamp with time zone")
                .containsEntry("uuid_ts", "timestamp with time zone")
                .containsEntry("user_id", "text")
                .containsEntry("anonymous_id", "text")
                .containsEntry("event", "text")
                .containsEntry("event_text", "text")
                .containsEntry("context_ip", "text")
                .containsEntry("context_library_name", "text")
                .containsEntry("context_library_version", "text");
        assertThat(tracks).doesNotContainKeys("revenue", "currency", "integrations_all", "source_id", "type");
        Map<String, Object> trackRow =
                warehouse.rows("SELECT * FROM web.tracks").getFirst();
        assertThat(trackRow)
                .containsEntry("id", "m-track")
                .containsEntry("event", "order_completed")
                .containsEntry("event_text", "Order Completed")
                .containsEntry("user_id", "user-1")
                .containsEntry("context_library_name", "analytics-java")
                .containsEntry("context_ip", "203.0.113.9");
        assertThat(warehouse.scalar("SELECT timestamp = '2026-03-01T12:00:00Z' FROM web.tracks"))
                .isEqualTo(true);
        assertThat(warehouse.scalar("SELECT uuid_ts IS NOT NULL FROM web.tracks"))
                .isEqualTo(true);

        assertThat(warehouse.columns("web", "order_completed"))
                .containsEntry("revenue", "double precision")
                .containsEntry("currency", "text")
                .containsEntry("items", "text")
                .containsEntry("coupon_code", "text")
                .containsEntry("event", "text")
                .containsEntry("context_ip", "text")
                .containsKey("uuid_ts");
        assertThat(warehouse.rows(
                        "SELECT id, revenue, currency, items, coupon_code, event_text FROM web.order_completed"))
                .containsExactly(Map.of(
                        "id",
                        "m-track",
                        "revenue",
                        42.5,
                        "currency",
                        "EUR",
                        "items",
                        "[1,2]",
                        "coupon_code",
                        "X",
                        "event_text",
                        "Order Completed"));

        assertThat(warehouse.rows(
                        "SELECT id, user_id, email, first_name, plan, context_library_name FROM web.identifies"))
                .containsExactly(Map.of(
                        "id",
                        "m-identify",
                        "user_id",
                        "user-1",
                        "email",
                        "ada@example.com",
                        "first_name",
                        "Ada",
                        "plan",
                        "pro",
                        "context_library_name",
                        "analytics-java"));
        assertThat(warehouse.rows("SELECT id, email, first_name, plan FROM web.users"))
                .containsExactly(
                        Map.of("id", "user-1", "email", "ada@example.com", "first_name", "Ada", "plan", "pro"));
        assertThat(warehouse.columns("web", "users"))
                .containsKeys("id", "received_at", "timestamp", "uuid_ts")
                .doesNotContainKeys("context_ip", "anonymous_id");

        assertThat(warehouse.rows("SELECT id, name, category, url, title, _name FROM web.pages"))
                .containsExactly(Map.of(
                        "id",
                        "m-page",
                        "name",
                        "Pricing",
                        "category",
                        "Docs",
                        "url",
                        "https://example.com/pricing",
                        "title",
                        "Pricing",
                        "_name",
                        "Pricing"));
        assertThat(warehouse.rows("SELECT id, name, variant FROM web.screens"))
                .containsExactly(Map.of("id", "m-screen", "name", "Home", "variant", "b"));
        assertThat(warehouse.rows("SELECT id, group_id, name, employees FROM web.groups"))
                .containsExactly(Map.of("id", "m-group", "group_id", "acme", "name", "Acme Inc", "employees", 250L));
        assertThat(warehouse.rows("SELECT id, previous_id, user_id FROM web.aliases"))
                .containsExactly(Map.of("id", "m-alias", "previous_id", "anon-42", "user_id", "user-1"));
    }

    @Test
    void usersHoldTheLatestTraitsEvenWhenAnOlderIdentifyArrivesLater() throws Exception {
        // one batch, out of order: the newer identify's plan wins; the older one still contributes 'email'
        warehouse.deliver(
                "crm",
                identify("i-2", "u1", "2026-03-01T12:00:00Z", "{\"plan\":\"pro\",\"seats\":5}"),
                identify("i-1", "u1", "2026-03-01T10:00:00Z", "{\"plan\":\"free\",\"email\":\"old@example.com\"}"),
                identify("i-9", "u2", "2026-03-01T10:00:00Z", "{\"plan\":\"free\"}"));
        assertThat(warehouse.rows("SELECT plan, seats, email FROM crm.users WHERE id = 'u1'"))
                .containsExactly(Map.of("plan", "pro", "seats", 5L, "email", "old@example.com"));

        // a later batch with an older identify (11:00 < 12:00): it cannot override, only fill what is still empty
        warehouse.deliver(
                "crm",
                identify("i-3", "u1", "2026-03-01T11:00:00Z", "{\"plan\":\"basic\",\"seats\":1,\"company\":\"Acme\"}"));
        assertThat(warehouse.rows("SELECT plan, seats, email, company FROM crm.users WHERE id = 'u1'"))
                .containsExactly(Map.of("plan", "pro", "seats", 5L, "email", "old@example.com", "company", "Acme"));

        // a newer one overrides what it sets and keeps the rest
        warehouse.deliver("crm", identify("i-4", "u1", "2026-03-02T09:00:00Z", "{\"email\":\"new@example.com\"}"));
        assertThat(
                        warehouse.rows(
                                "SELECT plan, seats, email, company, timestamp = '2026-03-02T09:00:00Z' AS latest FROM crm.users WHERE id = 'u1'"))
                .containsExactly(Map.of(
                        "plan", "pro", "seats", 5L, "email", "new@example.com", "company", "Acme", "latest", true));

        assertThat(warehouse.count("crm", "users")).isEqualTo(2);
        assertThat(warehouse.count("crm", "identifies")).isEqualTo(5);
        // anonymous identifies have no user row
        warehouse.deliver("crm", identify("i-anon", null, "2026-03-03T09:00:00Z", "{\"email\":\"x@example.com\"}"));
        assertThat(warehouse.count("crm", "users")).isEqualTo(2);
    }

    @Test
    void eachTrackEventNameHasItsOwnTable() throws Exception {
        warehouse.deliver(
                "shop",
                track("t1", "u1", "Order Completed", "{\"revenue\":10}"),
                track("t2", "u1", "orderCompleted", "{\"revenue\":20}"),
                track("t3", "u2", "Product Viewed", "{\"sku\":\"A-1\",\"price\":9.99}"),
                track("t4", "u2", "Signed Up", "{}"));
        assertThat(warehouse.tables("shop"))
                .containsExactlyInAnyOrder("tracks", "order_completed", "product_viewed", "signed_up");
        assertThat(warehouse.rows("SELECT id, revenue, event_text FROM shop.order_completed ORDER BY id"))
                .containsExactly(
                        Map.of("id", "t1", "revenue", 10L, "event_text", "Order Completed"),
                        Map.of("id", "t2", "revenue", 20L, "event_text", "orderCompleted"));
        assertThat(warehouse.rows("SELECT sku, price FROM shop.product_viewed"))
                .containsExactly(Map.of("sku", "A-1", "price", 9.99));
        assertThat(warehouse.count("shop", "tracks")).isEqualTo(4);
        assertThat(warehouse.count("shop", "signed_up")).isEqualTo(1);
    }

    @Test
    void loadingTheSameEventsAgainAddsNothing() throws Exception {
        List<ObjectNode> events = List.of(
                track("r1", "u1", "Clicked", "{\"n\":1}"),
                track("r2", "u1", "Clicked", "{\"n\":2}"),
                identify("r3", "u1", "2026-03-01T12:00:00Z", "{\"plan\":\"pro\"}"),
                event("alias", "r4", "u1", "2026-03-01T12:00:00Z").put("previousId", "a"));
        warehouse.destination.deliver(WarehouseFixture.batch("replay", events));
        warehouse.destination.deliver(WarehouseFixture.batch("replay", events));
        // an overlapping replay with one new event, and a duplicate messageId inside one batch
        warehouse.deliver(
                "replay",
                events.get(1),
                track("r5", "u1", "Clicked", "{\"n\":5}"),
                track("r5", "u1", "Clicked", "{\"n\":5}"));
        assertThat(warehouse.count("replay", "tracks")).isEqualTo(3);
        assertThat(warehouse.count("replay", "clicked")).isEqualTo(3);
        assertThat(warehouse.count("replay", "identifies")).isEqualTo(1);
        assertThat(warehouse.count("replay", "users")).isEqualTo(1);
        assertThat(warehouse.count("replay", "aliases")).isEqualTo(1);
    }

    @Test
    void otherTopLevelFieldsAreKeptAndRoutingMetadataIsNot() throws Exception {
        ObjectNode t = track("x1", "u1", "Synced", "{\"channel\":\"property\"}")
                .put("channel", "server")
                .put("version", 2);
        t.putObject("traits").put("plan", "pro");
        t.putObject("_metadata").putArray("bundled").add("Segment.io");
        ObjectNode i = WarehouseFixture.identify("x2", "u1", "2026-03-01T12:00:00Z", "{\"plan\":\"pro\"}");
        i.putObject("properties").put("misplaced", true);
        warehouse.deliver("extra", t, i);

        assertThat(warehouse.rows("SELECT channel, version, traits_plan FROM extra.tracks"))
                .containsExactly(Map.of("channel", "server", "version", 2L, "traits_plan", "pro"));
        Map<String, Object> own = warehouse.rows("SELECT * FROM extra.synced").getFirst();
        // the property keeps the plain name; the top-level field of the same name gets one of its own
        assertThat(own)
                .containsEntry("channel", "property")
                .containsEntry("version", 2L)
                .containsEntry("traits_plan", "pro");
        assertThat(own)
                .hasEntrySatisfying(
                        own.keySet().stream()
                                .filter(k -> k.matches("channel_[0-9a-f]{8}"))
                                .findFirst()
                                .orElseThrow(),
                        v -> assertThat(v).isEqualTo("server"));
        assertThat(warehouse.rows("SELECT plan, properties_misplaced FROM extra.identifies"))
                .containsExactly(Map.of("plan", "pro", "properties_misplaced", true));
        assertThat(warehouse.columns("extra", "tracks").keySet())
                .noneMatch(c -> c.contains("metadata")
                        || c.contains("integrations")
                        || c.equals("source_id")
                        || c.equals("type"));
    }

    @Test
    void nulCharactersAreStoredEscapedAndOtherTextExactly() throws Exception {
        String tricky = "quote \" comma , newline \n tab \t backslash \\ \\. emoji 🎉";
        ObjectNode e = track("nul-1", "u1", "Weird Text", "{}");
        ((ObjectNode) e.get("properties"))
                .put("with_nul", "a\u0000b")
                .put("tricky", tricky)
                .put("empty", "")
                .putNull("nothing");
        warehouse.deliver("text", e);
        assertThat(warehouse.rows("SELECT with_nul, tricky, empty FROM text.weird_text"))
                .containsExactly(Map.of("with_nul", "a\\u0000b", "tricky", tricky, "empty", ""));
        assertThat(warehouse.columns("text", "weird_text")).doesNotContainKey("nothing");
    }
}
