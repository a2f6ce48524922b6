package io.sluice.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A free-form configuration value (a sync's function settings, a source's inline contract, webhook headers, extra
 * producer settings) kept as JSON text, so the configuration records stay immutable all the way down: every
 * {@link #tree()} is a fresh copy that its reader may change without changing the configuration.
 */
public record Json(String text) {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static Json of(JsonNode node) {
        return node == null || node.isNull() ? null : new Json(node.toString());
    }

    public JsonNode tree() {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("configuration JSON is always valid", e);
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
