package io.sluice.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.sluice.admin.AdminParams;
import io.sluice.http.JsonErrors;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterStore;
import io.sluice.queue.DeadLetterSummary;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The Failed events page's JSON (like Segment's Event Delivery): {@code /console/api/dead-letters/groups} (dead
 * letters grouped by error, each with a sample request and response) and {@code /console/api/dead-letters/outcome}
 * (what became of replayed ones). The error text quotes the destination's answer, so it is shown only to viewers
 * who may see payloads ({@link ConsoleAccess}); others see the status and kind.
 */
final class DeadLetterGroups {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_OUTCOME_IDS = 1_000;

    private final DeadLetterSummary summary; // null without a queue database
    private final DeadLetterStore store;
    private final ConsoleAccess access;
    private final Clock clock;

    DeadLetterGroups(DataSource queueDatabase, DeadLetterStore store, ConsoleAccess access, Clock clock) {
        this.summary = queueDatabase == null ? null : new DeadLetterSummary(queueDatabase);
        this.store = store;
        this.access = access;
        this.clock = clock;
    }

    void register(JavalinConfig config) {
        config.routes.get("/console/api/dead-letters/groups", this::groups);
        config.routes.get("/console/api/dead-letters/outcome", this::outcome);
    }

    /** What anonymous viewers see instead of a dead letter's error. */
    static String hiddenError(Integer statusCode) {
        return (statusCode == null ? "" : "HTTP " + statusCode + ": ") + "details hidden (they quote the destination's "
                + "answer); log in, or open the console locally, to see them";
    }

    /** Removes the error texts ({@code lastError}, anywhere in the tree) a viewer without payloads may not see. */
    static ObjectNode hideErrors(ObjectNode node, boolean payloads) {
        if (!payloads) hide(node);
        return node;
    }

    private static void hide(JsonNode node) {
        if (node instanceof ObjectNode object) {
            if (object.has("lastError")) object.put("lastError", hiddenError(null));
            object.forEach(DeadLetterGroups::hide);
        } else if (node instanceof ArrayNode array) {
            array.forEach(DeadLetterGroups::hide);
        }
    }

    private void groups(Context ctx) throws Exception {
        ObjectNode out = JSON.createObjectNode().put("database", summary != null);
        ArrayNode list = out.putArray("groups");
        if (summary == null) {
            json(ctx, out);
            return;
        }
        String sync = blankToNull(ctx.queryParam("sync"));
        var since = AdminParams.since(blankToNull(ctx.queryParam("since")), clock);
        int limit = Math.min(500, AdminParams.limit(ctx.queryParam("limit"), 100));
        boolean payloads = access.payloads(ctx);
        out.put("payloads", payloads);
        List<DeadLetterSummary.Group> groups = summary.groups(sync, since, limit);
        List<Long> samples =
                groups.stream().map(DeadLetterSummary.Group::sampleId).toList();
        List<DeadLetter> sampleLetters = payloads && !samples.isEmpty() ? store.byIds(samples) : List.of();
        for (DeadLetterSummary.Group g : groups) {
            ObjectNode node = list.addObject()
                    .put("sync", g.syncId())
                    .put("kind", g.kind().column())
                    .put("count", g.count())
                    .put("firstSeen", g.firstSeen().toString())
                    .put("lastSeen", g.lastSeen().toString())
                    .put("reason", payloads ? g.reason() : hiddenError(g.statusCode()));
            if (g.statusCode() != null) node.put("statusCode", g.statusCode());
            ArrayNode ids = node.putArray("ids");
            g.ids().forEach(ids::add);
            node.put("idsComplete", g.ids().size() == g.count());
            ObjectNode sample = node.putObject("sample").put("id", g.sampleId());
            for (DeadLetter d : sampleLetters) {
                if (d.id() != g.sampleId()) continue;
                sample.set("request", d.event());
                sample.put("response", d.error()).put("messageId", d.messageId());
            }
        }
        // through serialize(), not toString(): each sample event as stored, byte for byte
        ctx.contentType("application/json").result(JSON.writeValueAsString(out));
    }

    private void outcome(Context ctx) throws Exception {
        List<Long> ids = new ArrayList<>();
        String text = ctx.queryParam("ids");
        for (String part : text == null ? new String[0] : text.split(",")) {
            if (part.isBlank()) continue;
            try {
                long id = Long.parseLong(part.trim());
                if (id <= 0) throw new NumberFormatException();
                ids.add(id);
            } catch (NumberFormatException e) {
                throw JsonErrors.badRequest(
                        "invalid_parameter", "'ids' must be comma-separated positive integers, got '" + part + "'");
            }
        }
        if (ids.isEmpty() || ids.size() > MAX_OUTCOME_IDS)
            throw JsonErrors.badRequest(
                    "invalid_parameter", "'ids' must name from 1 to " + MAX_OUTCOME_IDS + " dead letters");
        if (summary == null) {
            json(ctx, JSON.createObjectNode().put("database", false));
            return;
        }
        DeadLetterSummary.ReplayOutcome o = summary.outcome(ids);
        json(
                ctx,
                JSON.createObjectNode()
                        .put("database", true)
                        .put("delivered", o.delivered())
                        .put("failedAgain", o.failedAgain())
                        .put("pending", o.pending())
                        .put("gone", o.gone()));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static void json(Context ctx, ObjectNode node) {
        ctx.contentType("application/json").result(node.toString());
    }
}
