package io.sluice.contract;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.serialization.JsonNodeReader;
import io.sluice.contract.Contract.OnViolation;
import io.sluice.contract.Contract.Unplanned;
import io.sluice.contract.ContractException.Problem;
import io.sluice.contract.SchemaCompiler.KeyPath;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads and checks a contract: inline (a mapping in the source's config) or from a YAML/JSON file, read with
 * line numbers so that every problem points at its line. The whole contract is checked before it is refused, and
 * every problem is reported at once.
 *
 * <pre>
 * unplannedEvents: allow | block          # default allow
 * violations: allow | block | omit        # default allow
 * formats: annotate | assert              # default annotate (the 2020-12 default: 'format' is not checked)
 * description: text                       # optional, also allowed in events and in identify/group
 * events:
 *   "Order Completed":
 *     properties: { JSON Schema }         # optional: without it, any properties
 * identify: { traits: { JSON Schema } }
 * group:    { traits: { JSON Schema } }
 * </pre>
 */
public final class ContractReader {
    private static final Set<String> TOP_LEVEL =
            Set.of("unplannedEvents", "violations", "formats", "events", "identify", "group", "description");
    private static final Set<String> EVENT_KEYS = Set.of("properties", "description");
    private static final Set<String> TRAITS_KEYS = Set.of("traits", "description");
    private static final JsonNodeReader FILE_READER = JsonNodeReader.builder()
            .locationAware()
            .yamlMapper(new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY))
            .build();

    private final SchemaCompiler compiler = new SchemaCompiler();

    /** One reader per configuration load: identical schemas across sources compile once. */
    public ContractReader() {}

    /** Reads a contract file (YAML, or JSON); throws {@link ContractException} listing every problem with its line. */
    public Contract readFile(String sourceId, Path file) {
        JsonNode tree;
        try (InputStream in = Files.newInputStream(file)) {
            tree = FILE_READER.readTree(in, InputFormat.YAML);
        } catch (NoSuchFileException e) {
            throw new ContractException(file, List.of(new Problem(0, "", "the file does not exist")));
        } catch (JsonProcessingException e) {
            throw notYaml(file, e);
        } catch (IllegalArgumentException e) { // the location-aware reader wraps parse errors
            if (e.getCause() instanceof JsonProcessingException cause) throw notYaml(file, cause);
            throw new ContractException(file, List.of(new Problem(0, "", "could not be read: " + e)));
        } catch (IOException e) {
            throw new ContractException(file, List.of(new Problem(0, "", "could not be read: " + e)));
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw new ContractException(file, List.of(new Problem(0, "", "the file is empty")));
        }
        return fromTree(sourceId, tree, file);
    }

    private static ContractException notYaml(Path file, JsonProcessingException e) {
        JsonLocation location = e.getLocation();
        int line = location == null || location.getLineNr() < 0 ? 0 : location.getLineNr();
        return new ContractException(file, List.of(new Problem(line, "", "not valid YAML: " + e.getOriginalMessage())));
    }

    /** Reads an inline contract (a mapping from the configuration). */
    public Contract read(String sourceId, JsonNode tree) {
        return fromTree(sourceId, tree, null);
    }

    private Contract fromTree(String sourceId, JsonNode tree, Path file) {
        List<Problem> problems = new ArrayList<>();
        if (!tree.isObject()) {
            throw new ContractException(
                    file,
                    List.of(new Problem(
                            SchemaCompiler.line(tree),
                            "",
                            "a contract must be a mapping of keys (" + String.join(", ", sorted(TOP_LEVEL)) + ")")));
        }
        unknownKeys(tree, "", TOP_LEVEL, problems);
        Unplanned unplanned = choice(tree, "unplannedEvents", Unplanned.class, Unplanned.ALLOW, problems);
        OnViolation onViolation = choice(tree, "violations", OnViolation.class, OnViolation.ALLOW, problems);
        boolean assertFormats =
                "assert".equals(text(tree, "formats", List.of("annotate", "assert"), "annotate", problems));

        Map<String, JsonSchema> events = new LinkedHashMap<>();
        JsonNode eventsNode = tree.get("events");
        if (eventsNode != null && !eventsNode.isNull()) {
            if (!eventsNode.isObject()) {
                problems.add(new Problem(
                        SchemaCompiler.line(eventsNode), "events", "must be a mapping of event name to its plan"));
            } else {
                for (Iterator<Map.Entry<String, JsonNode>> it = eventsNode.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> entry = it.next();
                    String where = KeyPath.child("events", entry.getKey());
                    if (entry.getKey().isBlank()) {
                        problems.add(new Problem(
                                SchemaCompiler.line(entry.getValue()), where, "an event name must not be blank"));
                    }
                    events.put(
                            entry.getKey(),
                            schemaUnder(entry.getValue(), where, "properties", EVENT_KEYS, assertFormats, problems));
                }
            }
        }
        JsonSchema identify = section(tree, "identify", assertFormats, problems);
        JsonSchema group = section(tree, "group", assertFormats, problems);
        if (!problems.isEmpty()) throw new ContractException(file, problems);
        return new Contract(
                sourceId, unplanned, onViolation, assertFormats, Collections.unmodifiableMap(events), identify, group);
    }

    /** {@code identify:} or {@code group:}: a mapping with a {@code traits} schema. */
    private JsonSchema section(JsonNode tree, String key, boolean assertFormats, List<Problem> problems) {
        JsonNode node = tree.get(key);
        if (node == null || node.isNull()) return null;
        return schemaUnder(node, key, "traits", TRAITS_KEYS, assertFormats, problems);
    }

    /** The schema at {@code node.schemaKey}, or null when there is none (or it has problems, which are added). */
    private JsonSchema schemaUnder(
            JsonNode node,
            String where,
            String schemaKey,
            Set<String> allowed,
            boolean assertFormats,
            List<Problem> problems) {
        if (node == null || node.isNull()) return null;
        if (!node.isObject()) {
            problems.add(new Problem(
                    SchemaCompiler.line(node), where, "must be a mapping with '" + schemaKey + "' (a JSON Schema)"));
            return null;
        }
        unknownKeys(node, where, allowed, problems);
        JsonNode schema = node.get(schemaKey);
        if (schema == null || schema.isNull()) return null;
        return compiler.compile(schema, assertFormats, KeyPath.child(where, schemaKey), problems);
    }

    private static void unknownKeys(JsonNode node, String where, Set<String> allowed, List<Problem> problems) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!allowed.contains(field.getKey())) {
                problems.add(new Problem(
                        SchemaCompiler.line(field.getValue()),
                        KeyPath.child(where, field.getKey()),
                        "unknown key (known here: " + String.join(", ", sorted(allowed)) + ")"));
            }
        }
    }

    private static <E extends Enum<E>> E choice(
            JsonNode tree, String key, Class<E> type, E fallback, List<Problem> problems) {
        List<String> names = new ArrayList<>();
        for (E constant : type.getEnumConstants()) names.add(constant.name().toLowerCase(Locale.ROOT));
        String value = text(tree, key, names, fallback.name().toLowerCase(Locale.ROOT), problems);
        return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
    }

    private static String text(
            JsonNode tree, String key, List<String> allowed, String fallback, List<Problem> problems) {
        JsonNode node = tree.get(key);
        if (node == null || node.isNull()) return fallback;
        if (node.isTextual() && allowed.contains(node.asText())) return node.asText();
        String given = node.isTextual() ? "'" + node.asText() + "'" : node.toString();
        problems.add(new Problem(
                SchemaCompiler.line(node), key, "must be one of " + String.join(", ", allowed) + ", not " + given));
        return fallback;
    }

    private static List<String> sorted(Set<String> keys) {
        return keys.stream().sorted().toList();
    }
}
