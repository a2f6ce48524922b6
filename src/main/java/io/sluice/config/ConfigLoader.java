package io.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sluice.config.ConfigSchema.ListOf;
import io.sluice.config.ConfigSchema.Node;
import io.sluice.config.ConfigSchema.Section;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Loads the configuration: the YAML file (or built-in standalone defaults), then {@code ${ENV_VAR}} expansion,
 * then {@code SLUICE_*} environment overrides, then validation against {@link ConfigSchema}. Any problem stops
 * startup with one {@link ConfigException} naming the key.
 */
public final class ConfigLoader {
    public static final Path DEFAULT_FILE = Path.of("sluice.yaml");
    private static final String ENV_PREFIX = "SLUICE_";

    private final Map<String, String> env;

    public ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    public static ConfigLoader fromEnvironment() {
        return new ConfigLoader(System.getenv());
    }

    /** {@code explicitFile} from {@code --config}; else ./sluice.yaml if present; else standalone defaults. */
    public SluiceConfig load(Path explicitFile) {
        Path file = explicitFile != null ? explicitFile : (Files.isRegularFile(DEFAULT_FILE) ? DEFAULT_FILE : null);
        if (explicitFile != null && !Files.isRegularFile(explicitFile)) {
            throw new ConfigException("config file " + explicitFile.toAbsolutePath() + " does not exist");
        }
        ObjectNode tree = file == null ? JsonNodeFactory.instance.objectNode() : readYaml(file);
        Path baseDir = file == null
                ? Path.of("").toAbsolutePath()
                : file.toAbsolutePath().getParent();
        return fromTree(
                tree,
                file == null,
                file == null
                        ? "built-in standalone defaults"
                        : file.toAbsolutePath().toString(),
                baseDir);
    }

    /** Parses YAML text; for tests and for tools that build configs in memory. */
    public SluiceConfig loadYaml(String yaml) {
        try {
            return fromTree(
                    asObject(new ObjectMapper(new YAMLFactory()).readTree(yaml)),
                    false,
                    "inline YAML",
                    Path.of("").toAbsolutePath());
        } catch (IOException e) {
            throw new ConfigException("the YAML could not be parsed: " + e.getMessage());
        }
    }

    private static ObjectNode readYaml(Path file) {
        try {
            return asObject(new ObjectMapper(new YAMLFactory()).readTree(file.toFile()));
        } catch (IOException e) {
            throw new ConfigException("config file " + file + " could not be parsed: " + e.getMessage());
        }
    }

    private static ObjectNode asObject(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) return JsonNodeFactory.instance.objectNode();
        if (!node.isObject()) throw new ConfigException("the top level of the config must be a mapping of keys");
        return (ObjectNode) node;
    }

    private SluiceConfig fromTree(ObjectNode tree, boolean standalone, String origin, Path baseDir) {
        if (standalone) applyStandaloneDefaults(tree);
        expandReferences(tree, "");
        applyEnvironmentOverrides(tree);
        Values values = new Values("");
        Effective effective = new Effective();
        walk(ConfigSchema.ROOT, tree, "", values, effective);
        return ConfigChecks.check(ConfigSchema.read(values, origin, baseDir, effective.describe()));
    }

    private static void applyStandaloneDefaults(ObjectNode tree) {
        ConfigSchema.ROOT.children().forEach((name, node) -> {
            if (node instanceof ListOf list && !tree.has(name)) {
                ArrayNode array = tree.putArray(name);
                list.standaloneDefault().forEach(entry -> {
                    ObjectNode element = array.addObject();
                    entry.forEach(element::put);
                });
            }
        });
    }

    /** Replaces {@code ${VAR}} and {@code ${VAR:-fallback}} in every string value. */
    private void expandReferences(JsonNode node, String path) {
        if (node instanceof ObjectNode object) {
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String childPath = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                if (field.getValue().isTextual()) {
                    object.put(field.getKey(), expand(field.getValue().asText(), childPath));
                } else {
                    expandReferences(field.getValue(), childPath);
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                if (array.get(i).isTextual())
                    array.set(i, array.textNode(expand(array.get(i).asText(), path + "[" + i + "]")));
                else expandReferences(array.get(i), path + "[" + i + "]");
            }
        }
    }

    String expand(String text, String path) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            int start = text.indexOf("${", i);
            if (start < 0) break;
            int end = text.indexOf('}', start);
            if (end < 0) throw new ConfigException(path, "unterminated ${ in '" + text + "'");
            out.append(text, i, start);
            String reference = text.substring(start + 2, end);
            String name = reference;
            String fallback = null;
            int colon = reference.indexOf(":-");
            if (colon >= 0) {
                name = reference.substring(0, colon);
                fallback = reference.substring(colon + 2);
            }
            String value = env.get(name);
            if (value == null || (value.isEmpty() && fallback != null)) value = fallback;
            if (value == null) {
                throw new ConfigException(path, "references ${" + name + "}, which is not set in the environment");
            }
            out.append(value);
            i = end + 1;
        }
        return out.append(text.substring(i)).toString();
    }

    /** {@code SLUICE_KAFKA_BOOTSTRAPSERVERS} overrides kafka.bootstrapServers; list elements by index. */
    private void applyEnvironmentOverrides(ObjectNode tree) {
        env.entrySet().stream()
                .filter(e -> e.getKey().startsWith(ENV_PREFIX))
                .sorted(Map.Entry.comparingByKey())
                .forEach(e ->
                        override(tree, e.getKey().substring(ENV_PREFIX.length()).split("_"), e.getValue()));
    }

    private static void override(ObjectNode tree, String[] segments, String value) {
        Node node = ConfigSchema.ROOT;
        JsonNode target = tree;
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            boolean last = i == segments.length - 1;
            if (node instanceof Section section && target instanceof ObjectNode object) {
                String name = matchKey(section, segment);
                if (name == null) return; // not one of ours: perhaps a variable meant for ${...}
                Node child = section.children().get(name);
                if (last) {
                    if (child instanceof Key<?>) object.put(name, value);
                    return;
                }
                if (child instanceof Key<?> || child instanceof ConfigSchema.Opaque) return;
                JsonNode next = object.get(name);
                if (next == null || next.isNull())
                    next = child instanceof ListOf ? object.putArray(name) : object.putObject(name);
                node = child;
                target = next;
            } else if (node instanceof ListOf list && target instanceof ArrayNode array) {
                if (!segment.matches("\\d{1,3}") || last) return;
                int index = Integer.parseInt(segment);
                while (array.size() <= index) array.addObject();
                JsonNode type = array.get(index).get("type");
                Section element = type == null ? list.element() : list.elementFor(type.asText());
                node = element == null ? list.element() : element;
                target = array.get(index);
            } else {
                return;
            }
        }
    }

    private static String matchKey(Section section, String segment) {
        for (String name : section.children().keySet()) {
            if (name.toUpperCase(Locale.ROOT).equals(segment)) return name;
        }
        return null;
    }

    private static void walk(Section section, JsonNode given, String prefix, Values values, Effective effective) {
        if (given != null && !given.isNull() && !given.isObject()) {
            throw new ConfigException(
                    prefix.isEmpty() ? "(top level)" : prefix.substring(0, prefix.length() - 1),
                    "must be a mapping of keys");
        }
        if (given != null) {
            for (Iterator<String> names = given.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!section.children().containsKey(name)) {
                    throw new ConfigException(prefix + name, "unknown key" + suggestion(section, name));
                }
            }
        }
        section.children().forEach((name, node) -> {
            String path = prefix + name;
            JsonNode child = given == null ? null : given.get(name);
            switch (node) {
                case Key<?> key -> {
                    Object value = convert(key, child, path);
                    values.put(key, value);
                    effective.put(path, value, key.secret());
                }
                case Section inner -> {
                    Values innerValues = new Values(path);
                    walk(inner, child, path + ".", innerValues, effective);
                    values.put(inner, innerValues);
                }
                case ListOf list -> values.put(list, walkList(list, child, path, effective));
                case ConfigSchema.Opaque opaque -> {
                    Json json = Json.of(child);
                    values.put(opaque, json);
                    effective.put(path, json, true);
                }
            }
        });
    }

    private static List<Values> walkList(ListOf list, JsonNode given, String path, Effective effective) {
        if (given == null || given.isNull() || (given.isArray() && given.isEmpty())) {
            if (list.required()) throw new ConfigException(path, "at least one entry is required");
            return List.of();
        }
        if (!given.isArray()) throw new ConfigException(path, "must be a list");
        List<Values> elements = new ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            String prefix = path + "[" + i + "].";
            JsonNode element = given.get(i);
            Section section = list.element();
            if (!list.variants().isEmpty()) {
                JsonNode type = element == null ? null : element.get("type");
                if (type == null || type.isNull())
                    throw new ConfigException(
                            prefix + "type",
                            "is required (one of "
                                    + String.join(", ", list.variants().keySet()) + ")");
                section = list.elementFor(type.asText());
                if (section == null) {
                    throw new ConfigException(
                            prefix + "type",
                            "unknown type '" + type.asText() + "' (known: "
                                    + String.join(", ", list.variants().keySet()) + ")");
                }
            }
            Values elementValues = new Values(path + "[" + i + "]");
            walk(section, element, prefix, elementValues, effective);
            elements.add(elementValues);
        }
        return List.copyOf(elements);
    }

    private static <T> T convert(Key<T> key, JsonNode node, String path) {
        Kind<T> kind = key.kind();
        String raw;
        if (node == null || node.isNull()) {
            if (key.defaultValue() == null) throw new ConfigException(path, "is required");
            raw = key.defaultValue();
        } else if (node.isObject() && kind.shape == Kind.Shape.MAPPING) {
            return kind.fromEntries(entries(node, path));
        } else if (node.isArray()) {
            if (kind.shape != Kind.Shape.LIST) {
                throw new ConfigException(
                        path,
                        kind.shape == Kind.Shape.MAPPING
                                ? "must be " + kind.description
                                : "must be a single value, not a list");
            }
            List<String> parts = new ArrayList<>();
            node.forEach(element -> parts.add(element.asText()));
            raw = String.join(",", parts);
        } else if (node.isContainerNode()) {
            throw new ConfigException(path, "must be a single value, not a mapping");
        } else {
            raw = node.asText();
        }
        try {
            return kind.convert(raw);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    /** A mapping's entries; each must be a single value (a number or boolean is taken as its text). */
    private static Map<String, String> entries(JsonNode mapping, String path) {
        Map<String, String> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = mapping.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (!entry.getValue().isValueNode() || entry.getValue().isNull())
                throw new ConfigException(path + "." + entry.getKey(), "must be a single value");
            entries.put(entry.getKey(), entry.getValue().asText());
        }
        return entries;
    }

    private static String suggestion(Section section, String name) {
        for (String known : section.children().keySet()) {
            if (known.equalsIgnoreCase(name)
                    || editDistance(known.toLowerCase(Locale.ROOT), name.toLowerCase(Locale.ROOT)) <= 2) {
                return " (did you mean '" + known + "'?)";
            }
        }
        return " (known keys: " + String.join(", ", section.children().keySet()) + ")";
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) previous[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            int[] current = new int[b.length() + 1];
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            previous = current;
        }
        return previous[b.length()];
    }
}
