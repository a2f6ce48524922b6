package io.sluice.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.sluice.privacy.PrivacyRequest;
import io.sluice.privacy.PrivacyRequests;
import io.sluice.privacy.PrivacyStore;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Privacy requests over the admin API (docs/privacy.md): {@code POST /admin/privacy/requests} with
 * {@code {"type":"suppress|unsuppress|delete","userIds":[…],"requestedBy":"…"}} (at most 5,000 ids; an
 * {@code Idempotency-Key} header makes a retried call return the first request), {@code GET /admin/privacy/requests}
 * (newest first, {@code ?limit=}) and {@code GET /admin/privacy/requests/{id}}, each request with its state per
 * target. Authorization: see {@link AdminAuth}.
 */
public final class PrivacyAdminRoutes implements AdminRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrivacyRequests requests;

    public PrivacyAdminRoutes(PrivacyRequests requests) {
        this.requests = requests;
    }

    @Override
    public void register(JavalinConfig config) {
        config.routes.post("/admin/privacy/requests", this::submit);
        config.routes.get("/admin/privacy/requests", ctx -> {
            int limit = AdminParams.limit(ctx.queryParam("limit"), 100);
            ArrayNode out = JSON.createArrayNode();
            for (PrivacyRequest r : requests.store().list(limit)) out.add(json(r));
            ctx.contentType("application/json").result(out.toString());
        });
        config.routes.get("/admin/privacy/requests/{id}", ctx -> {
            long id;
            try {
                id = Long.parseLong(ctx.pathParam("id"));
            } catch (NumberFormatException e) {
                error(ctx, 400, "the request id is a number");
                return;
            }
            PrivacyRequest r = requests.store().get(id);
            if (r == null) error(ctx, 404, "no such privacy request");
            else ctx.contentType("application/json").result(json(r).toString());
        });
    }

    private void submit(Context ctx) throws Exception {
        JsonNode body;
        try {
            body = JSON.readTree(ctx.bodyAsBytes());
        } catch (IOException e) {
            error(ctx, 400, "the body is not JSON");
            return;
        }
        if (body == null || !body.isObject()) {
            error(ctx, 400, "the body is a JSON object: {\"type\":…, \"userIds\":[…]}");
            return;
        }
        JsonNode userIds = body.get("userIds");
        if (userIds == null || !userIds.isArray()) {
            error(ctx, 400, "'userIds' is an array of userIds or anonymousIds");
            return;
        }
        List<String> ids = new ArrayList<>(userIds.size());
        for (JsonNode id : userIds) {
            if (!id.isTextual() && !id.isIntegralNumber()) {
                error(ctx, 400, "every id in 'userIds' is a string (or an integer)");
                return;
            }
            ids.add(id.asText());
        }
        String channel = ctx.header("Authorization") == null ? "console" : "admin API";
        JsonNode note = body.get("requestedBy");
        String by = note != null && note.isTextual() && !note.textValue().isBlank()
                ? channel + ": " + note.textValue()
                : channel;
        PrivacyStore.Created created;
        try {
            created = requests.submit(body.path("type").asText(null), ids, by, ctx.header("Idempotency-Key"));
        } catch (PrivacyRequests.Invalid e) {
            error(ctx, 400, e.getMessage());
            return;
        }
        ctx.status(created.created() ? 201 : 200)
                .contentType("application/json")
                .result(json(requests.store().get(created.id())).toString());
    }

    static ObjectNode json(PrivacyRequest r) {
        ObjectNode out = JSON.createObjectNode()
                .put("id", r.id())
                .put("type", r.kind().column())
                .put("state", r.state())
                .put("requestedBy", r.requestedBy())
                .put("requestedAt", r.requestedAt().toString())
                .put("userCount", r.userCount())
                .put("finishedAt", text(r.finishedAt()));
        if (r.idempotencyKey() != null) out.put("idempotencyKey", r.idempotencyKey());
        ArrayNode targets = out.putArray("targets");
        for (PrivacyRequest.Target t : r.targets()) {
            ObjectNode target = targets.addObject()
                    .put("target", t.name())
                    .put("status", t.status())
                    .put("attempts", t.attempts())
                    .put("reason", t.reason())
                    .put("updatedAt", text(t.updatedAt()))
                    .put("doneAt", text(t.doneAt()));
            if (t.affected() != null) target.put("affected", t.affected());
            if (t.status().equals(PrivacyRequest.Target.FAILED)) target.put("nextAttemptAt", text(t.nextAttemptAt()));
        }
        return out;
    }

    private static String text(Instant instant) {
        return instant == null ? null : instant.toString();
    }

    private static void error(Context ctx, int status, String message) {
        ctx.status(status)
                .contentType("application/json")
                .result(JSON.createObjectNode().put("error", message).toString());
    }
}
