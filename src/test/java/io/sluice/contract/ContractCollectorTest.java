package io.sluice.contract;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Contracts end to end: real HTTP into the collector, what reached the Kafka events topic, and the violations the
 * {@link ViolationWriter} stored in PostgreSQL. One source per mode, all with the same tracking plan.
 */
class ContractCollectorTest {
    static final String PLAN = """
            events:
              "Order Completed":
                properties:
                  type: object
                  required: [total]
                  additionalProperties: false
                  properties:
                    total: {type: number}
                    currency: {type: string, enum: [EUR, USD]}
                    items: {type: array, items: {type: object, required: [sku], properties: {sku: {type: string}}}}
              "Signed Up": {}
            identify:
              traits:
                type: object
                properties:
                  email: {type: string, format: email}
                  age: {type: integer, minimum: 0}
            group:
              traits:
                type: object
                required: [plan]
                properties:
                  plan: {enum: [free, pro]}
            """;
    static ContractRig rig;

    @BeforeAll
    static void start() {
        rig = new ContractRig("sources:\n" + source("allow", "unplannedEvents: allow\nviolations: allow")
                + source("block", "violations: block") + source("omit", "violations: omit")
                + source("strict", "unplannedEvents: block\nviolations: block\nformats: assert")
                + "  - {id: plain, writeKey: wk_plain}\n");
    }

    static String source(String id, String modes) {
        return ("- id: " + id + "\n  writeKey: wk_" + id + "\n  contract:\n" + (modes + "\n" + PLAN).indent(4))
                .indent(2);
    }

    @AfterAll
    static void stop() {
        if (rig != null) rig.close();
    }

    @Test
    void allowDeliversEveryEventUnchangedAndRecordsEachViolation() {
        String p = prefix();
        var response = rig.post("wk_allow", "/v1/batch", """
                {"batch":[
                  {"type":"track","userId":"u1","event":"Order Completed","messageId":"%1$s-ok","properties":{"total":10,"currency":"EUR"}},
                  {"type":"track","userId":"u1","event":"Order Completed","messageId":"%1$s-bad","properties":{"total":"12","currency":3}},
                  {"type":"track","userId":"u1","event":"Banana Clicked","messageId":"%1$s-unplanned","properties":{"x":1}}
                ]}""".formatted(p));
        assertThat(response.statusCode()).isEqualTo(200);

        Map<String, JsonNode> events = rig.events(p);
        assertThat(events).containsOnlyKeys(p + "-ok", p + "-bad", p + "-unplanned");
        assertThat(events.get(p + "-bad").get("properties").toString()).isEqualTo("{\"total\":\"12\",\"currency\":3}");

        List<Map<String, Object>> rows = rig.violations(p, 4);
        assertThat(rows)
                .extracting(
                        r -> r.get("message_id") + " " + r.get("rule") + " " + r.get("path") + " " + r.get("action"))
                .containsExactlyInAnyOrder(
                        p + "-bad type $.properties.total allow",
                        p + "-bad type $.properties.currency allow", // each failing keyword is one violation
                        p + "-bad enum $.properties.currency allow",
                        p + "-unplanned unplanned_event $.event allow");
        Map<String, Object> total = rows.stream()
                .filter(r -> "$.properties.total".equals(r.get("path")))
                .findFirst()
                .orElseThrow();
        assertThat(total)
                .containsEntry("source_id", "allow")
                .containsEntry("event_type", "track")
                .containsEntry("event_name", "Order Completed")
                .containsEntry("message", "string found, number expected");
        Instant occurred = ((Timestamp) total.get("occurred_at")).toInstant();
        assertThat(occurred).isBetween(Instant.now().minusSeconds(60), Instant.now());
        assertThat(((Timestamp) total.get("recorded_at")).toInstant()).isAfterOrEqualTo(occurred);
        assertThat(rows)
                .filteredOn(r -> r.get("rule").equals("unplanned_event"))
                .singleElement()
                .satisfies(r ->
                        assertThat(r.get("message")).isEqualTo("event 'Banana Clicked' is not in the tracking plan"));
    }

    @Test
    void blockDropsInvalidEventsButStillAnswers200() {
        String p = prefix();
        var response = rig.post("wk_block", "/v1/batch", """
                {"batch":[
                  {"type":"track","userId":"u1","event":"Order Completed","messageId":"%1$s-missing","properties":{"currency":"EUR"}},
                  {"type":"track","userId":"u1","event":"Order Completed","messageId":"%1$s-ok","properties":{"total":5}},
                  {"type":"track","userId":"u1","event":"Other Event","messageId":"%1$s-unplanned"}
                ]}""".formatted(p));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"success\":true}");
        // a request whose every event is blocked is answered 200 too, so SDKs do not retry it
        var alone = rig.post("wk_block", "/v1/track", """
                {"userId":"u2","event":"Order Completed","messageId":"%s-alone","properties":{"total":false}}""".formatted(p));
        assertThat(alone.statusCode()).isEqualTo(200);

        assertThat(rig.events(p)).containsOnlyKeys(p + "-ok", p + "-unplanned");
        assertThat(rig.violations(p, 3))
                .extracting(
                        r -> r.get("message_id") + " " + r.get("rule") + " " + r.get("path") + " " + r.get("action"))
                .containsExactlyInAnyOrder(
                        p + "-alone type $.properties.total block",
                        p + "-missing required $.properties.total block",
                        p + "-unplanned unplanned_event $.event allow");
        Counter blocked = rig.sluice
                .registry()
                .find("sluice.contract.events.blocked")
                .tag("source", "block")
                .counter();
        assertThat(blocked).isNotNull();
        assertThat(blocked.count()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void omitRemovesOnlyTheInvalidTopLevelProperties() {
        String p = prefix();
        var response = rig.post("wk_omit", "/v1/batch", """
                {"batch":[
                  {"type":"track","userId":"u1","event":"Order Completed","messageId":"%1$s-mixed",
                   "properties":{"total":"12","currency":"EUR","coupon":"X1","items":[{"sku":"a"},{"sku":7}]}},
                  {"type":"track","userId":"u1","event":"Order Completed","messageId":"%1$s-required","properties":{"currency":"USD"}}
                ]}""".formatted(p));
        assertThat(response.statusCode()).isEqualTo(200);

        Map<String, JsonNode> events = rig.events(p);
        assertThat(events).containsOnlyKeys(p + "-mixed", p + "-required");
        assertThat(events.get(p + "-mixed").get("properties").toString()).isEqualTo("{\"currency\":\"EUR\"}");
        // a missing required property cannot be omitted: delivered as sent, recorded as allowed
        assertThat(events.get(p + "-required").get("properties").toString()).isEqualTo("{\"currency\":\"USD\"}");
        assertThat(rig.violations(p, 4))
                .extracting(
                        r -> r.get("message_id") + " " + r.get("rule") + " " + r.get("path") + " " + r.get("action"))
                .containsExactlyInAnyOrder(
                        p + "-mixed type $.properties.total omit",
                        p + "-mixed additionalProperties $.properties.coupon omit",
                        p + "-mixed type $.properties.items[1].sku omit",
                        p + "-required required $.properties.total allow");
    }

    @Test
    void unplannedEventsAreBlockedWhenTheContractSaysSo() {
        String p = prefix();
        var response = rig.post("wk_strict", "/v1/batch", """
                {"batch":[
                  {"type":"track","userId":"u1","event":"Banana Clicked","messageId":"%1$s-unplanned"},
                  {"type":"track","userId":"u1","event":"Signed Up","messageId":"%1$s-planned","properties":{"anything":[1,2]}},
                  {"type":"page","userId":"u1","name":"Home","messageId":"%1$s-page"},
                  {"type":"alias","userId":"u1","previousId":"a1","messageId":"%1$s-alias"}
                ]}""".formatted(p));
        assertThat(response.statusCode()).isEqualTo(200);

        assertThat(rig.events(p)).containsOnlyKeys(p + "-planned", p + "-page", p + "-alias");
        assertThat(rig.violations(p, 1)).singleElement().satisfies(r -> {
            assertThat(r)
                    .containsEntry("rule", "unplanned_event")
                    .containsEntry("action", "block")
                    .containsEntry("path", "$.event")
                    .containsEntry("event_name", "Banana Clicked")
                    .containsEntry("source_id", "strict");
        });
    }

    @Test
    void identifyAndGroupTraitsHaveTheirOwnSchemas() {
        String p = prefix();
        rig.post("wk_allow", "/v1/identify", """
                {"userId":"u1","messageId":"%s-identify","traits":{"email":"ada@example.com","age":"old"}}""".formatted(p));
        rig.post("wk_allow", "/v1/group", """
                {"userId":"u1","groupId":"g1","messageId":"%s-group","traits":{"plan":"gold"}}""".formatted(p));
        rig.post("wk_allow", "/v1/group", """
                {"userId":"u1","groupId":"g1","messageId":"%s-group-empty"}""".formatted(p));

        assertThat(rig.events(p)).hasSize(3);
        List<Map<String, Object>> rows = rig.violations(p, 3);
        assertThat(rows)
                .extracting(r ->
                        r.get("message_id") + " " + r.get("event_type") + " " + r.get("rule") + " " + r.get("path"))
                .containsExactlyInAnyOrder(
                        p + "-identify identify type $.traits.age",
                        p + "-group group enum $.traits.plan",
                        p + "-group-empty group required $.traits.plan");
        assertThat(rows).allSatisfy(r -> assertThat(r.get("event_name")).isNull());
    }

    @Test
    void formatIsAnAnnotationByDefaultAndAnAssertionWithFormatsAssert() {
        String p = prefix();
        // violations: allow, formats not set: the 2020-12 default, 'format' is not checked
        String identify = "{\"userId\":\"u1\",\"messageId\":\"%s\",\"traits\":{\"email\":\"%s\"}}";
        rig.post("wk_allow", "/v1/identify", identify.formatted(p + "-annotated", "not-an-email"));
        // formats: assert (and violations: block)
        rig.post("wk_strict", "/v1/identify", identify.formatted(p + "-asserted", "not-an-email"));
        rig.post("wk_strict", "/v1/identify", identify.formatted(p + "-valid", "ada@example.com"));

        assertThat(rig.events(p)).containsOnlyKeys(p + "-annotated", p + "-valid");
        assertThat(rig.violations(p, 1))
                .singleElement()
                .satisfies(r -> assertThat(r)
                        .containsEntry("message_id", p + "-asserted")
                        .containsEntry("rule", "format")
                        .containsEntry("path", "$.traits.email")
                        .containsEntry("action", "block"));
    }

    @Test
    void sourcesWithoutAContractAreNotChecked() {
        String p = prefix();
        rig.post(
                "wk_plain",
                "/v1/track",
                "{\"userId\":\"u1\",\"event\":\"Anything\",\"messageId\":\"%s-plain\"}".formatted(p));
        assertThat(rig.events(p)).containsOnlyKeys(p + "-plain");
        // the marker's violation (another source) shows the writer at work; there is none for the 'plain' event
        rig.post(
                "wk_allow",
                "/v1/track",
                "{\"userId\":\"u1\",\"event\":\"Unknown\",\"messageId\":\"%s-marker\"}".formatted(p));
        assertThat(rig.violations(p, 1)).extracting(r -> r.get("message_id")).containsExactly(p + "-marker");
    }

    @Test
    void violationsAreCountedInMetrics() {
        String p = prefix();
        rig.post("wk_omit", "/v1/track", """
                {"userId":"u1","event":"Order Completed","messageId":"%s","properties":{"total":"x"}}""".formatted(p));
        rig.violations(p, 1);
        Counter counter = rig.sluice
                .registry()
                .find("sluice.contract.violations")
                .tags("source", "omit", "rule", "type", "action", "omit")
                .counter();
        assertThat(counter).isNotNull();
        assertThat(counter.count()).isGreaterThanOrEqualTo(1);
        assertThat(rig.sluice.registry().scrape())
                .contains("sluice_contract_violations_total{action=\"omit\",rule=\"type\",source=\"omit\"}");
    }

    static String prefix() {
        return "c-" + UUID.randomUUID();
    }
}
