package io.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/** The effective value of every key by path, in schema order, for the startup log (secrets redacted). */
final class Effective {
    private final Map<String, Object> byPath = new LinkedHashMap<>();
    private final Map<String, Boolean> secret = new LinkedHashMap<>();

    void put(String path, Object value, boolean isSecret) {
        byPath.put(path, value);
        secret.put(path, isSecret);
    }

    /** One line, secrets redacted; a mapping shows as {...} since its values may be credentials. */
    String describe() {
        StringBuilder out = new StringBuilder();
        byPath.forEach((path, value) -> {
            if (value == null) return; // an optional mapping that is not set
            if (value instanceof Map<?, ?> map && map.isEmpty()) return;
            if (!out.isEmpty()) out.append(", ");
            JsonNode tree = value instanceof Json json ? json.tree() : null;
            String text = tree != null
                    ? (tree.isTextual() ? tree.asText() : "{...}")
                    : value instanceof Map<?, ?> ? "{...}" : String.valueOf(value);
            out.append(path).append('=').append(secret.get(path) && !text.isEmpty() && tree == null ? "******" : text);
        });
        return out.toString();
    }
}
