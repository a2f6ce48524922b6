package io.sluice.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import java.nio.file.Files;
import java.nio.file.Path;

/** The syncs' functions for the console's function tester; the code only for viewers allowed to see payloads. */
final class FunctionsView {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FunctionsView() {}

    static ObjectNode toJson(SluiceConfig config, boolean payloads) {
        ObjectNode out = JSON.createObjectNode().put("payloads", payloads);
        ArrayNode functions = out.putArray("functions");
        for (SyncSettings sync : config.syncs()) {
            if (!sync.hasFunction()) continue;
            ObjectNode node = functions.addObject().put("sync", sync.id());
            if (payloads) {
                node.put("code", code(config, sync));
                // settings carry the services' secrets (${ENV}): the console shows their shape, never their values
                if (sync.settings() != null)
                    node.set("settings", redacted(sync.settings().tree()));
            }
        }
        return out;
    }

    /** The same tree with every scalar replaced by {@link #HIDDEN} (docs/functions.md, "Calling services"). */
    static JsonNode redacted(JsonNode node) {
        if (node.isObject()) {
            ObjectNode copy = JSON.createObjectNode();
            node.properties().forEach(e -> copy.set(e.getKey(), redacted(e.getValue())));
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = JSON.createArrayNode();
            node.forEach(v -> copy.add(redacted(v)));
            return copy;
        }
        return node.isNull() ? node : TextNode.valueOf(HIDDEN);
    }

    static final String HIDDEN = "(hidden: set in the configuration)";

    /** A one-line {@code .js} spec is a file relative to the configuration (as the worker reads it), else inline code. */
    private static String code(SluiceConfig config, SyncSettings sync) {
        String spec = sync.function().strip();
        boolean file = spec.endsWith(".js")
                && spec.lines().count() == 1
                && spec.chars().noneMatch(c -> c == '(' || c == '{' || c == ';');
        if (!file) return sync.function();
        try {
            Path path = config.resolve(spec);
            return Files.readString(path);
        } catch (Exception e) {
            return "// could not read " + spec + ": " + e.getMessage();
        }
    }
}
