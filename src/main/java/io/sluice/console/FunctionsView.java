package io.sluice.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
                if (sync.settings() != null)
                    node.set("settings", sync.settings().tree());
            }
        }
        return out;
    }

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
