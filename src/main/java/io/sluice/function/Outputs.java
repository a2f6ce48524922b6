package io.sluice.function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns what transform returned (JSON text of an object or an array of objects) into events with stable ids: an
 * event without a {@code messageId} gets the input's; in a fan-out, the n-th event (n > 0) gets
 * {@code <messageId>-<n>} when it has none or repeats an earlier one, so retries produce the same ids and
 * destinations' idempotency keys neither collide nor change.
 */
final class Outputs {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Outputs() {}

    static String json(ObjectNode event) throws ScriptFailure {
        try {
            return MAPPER.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw ScriptFailure.rejected("the event could not be converted to JSON: " + e.getOriginalMessage());
        }
    }

    /** Appends the events in {@code resultJson} to {@code out}. */
    static void add(String resultJson, ObjectNode input, List<ObjectNode> out) throws ScriptFailure {
        JsonNode result;
        try {
            result = MAPPER.readTree(resultJson);
        } catch (JsonProcessingException e) {
            throw ScriptFailure.rejected("the returned value could not be read back: " + e.getOriginalMessage());
        }
        JsonNode id = input.get("messageId");
        String messageId = id != null && id.isTextual() ? id.asText() : null;
        if (result instanceof ObjectNode event) {
            if (messageId != null && !hasId(event)) event.put("messageId", messageId);
            out.add(event);
            return;
        }
        List<ObjectNode> events = new ArrayList<>(result.size());
        Set<String> seen = new HashSet<>();
        for (int n = 0; n < result.size(); n++) {
            ObjectNode event = (ObjectNode) result.get(n); // checked in the prelude
            if (messageId != null
                    && (!hasId(event) || seen.contains(event.get("messageId").asText()))) {
                event.put("messageId", n == 0 ? messageId : messageId + "-" + n);
            }
            if (hasId(event)) seen.add(event.get("messageId").asText());
            events.add(event);
        }
        out.addAll(events);
    }

    private static boolean hasId(ObjectNode event) {
        JsonNode id = event.get("messageId");
        return id != null && id.isTextual() && !id.asText().isEmpty();
    }
}
