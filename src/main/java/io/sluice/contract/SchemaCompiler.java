package io.sluice.contract;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion.VersionFlag;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.resource.ClasspathSchemaLoader;
import com.networknt.schema.resource.DisallowSchemaLoader;
import com.networknt.schema.serialization.node.JsonLocationAware;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the JSON Schemas of a contract into compiled, thread-safe validators (networknt json-schema-validator,
 * draft 2020-12). A schema is first checked against the 2020-12 meta-schema, so a typo such as
 * {@code type: numbr} is an error at startup rather than a schema that silently accepts everything. Schemas are
 * never fetched: {@code $ref} resolves inside the schema only (the meta-schemas come from the library's classpath).
 * Identical schemas compile once.
 */
final class SchemaCompiler {
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(
            VersionFlag.V202012,
            builder -> builder.schemaLoaders(
                    loaders -> loaders.add(new ClasspathSchemaLoader()).add(DisallowSchemaLoader.getInstance())));
    private static final JsonSchema META_SCHEMA =
            FACTORY.getSchema(SchemaLocation.of(VersionFlag.V202012.getId()), config(false));

    private final Map<String, JsonSchema> compiled = new HashMap<>();

    /** Validation settings: every error (not just the first), JSON paths, English messages; format assertion by choice. */
    static SchemaValidatorsConfig config(boolean assertFormats) {
        return SchemaValidatorsConfig.builder()
                .pathType(PathType.JSON_PATH)
                .locale(Locale.ENGLISH)
                .failFast(false)
                // null: the library's default for 2020-12, where format is an annotation, not an assertion
                .formatAssertionsEnabled(assertFormats ? Boolean.TRUE : null)
                .build();
    }

    /** The compiled schema, or null after adding the reasons it is not a valid 2020-12 schema to {@code problems}. */
    JsonSchema compile(JsonNode schema, boolean assertFormats, String where, List<ContractException.Problem> problems) {
        if (!schema.isObject() && !schema.isBoolean()) {
            problems.add(new ContractException.Problem(
                    line(schema), where, "must be a JSON Schema (a mapping or true/false)"));
            return null;
        }
        Map<String, ContractException.Problem> byLocation = new LinkedHashMap<>();
        for (ValidationMessage error : META_SCHEMA.validate(schema)) {
            String location = error.getInstanceLocation().toString();
            // one problem per place: an anyOf in the meta-schema reports each alternative, the first says enough
            byLocation.putIfAbsent(
                    location,
                    new ContractException.Problem(
                            line(at(schema, error.getInstanceLocation())),
                            where + KeyPath.of(error.getInstanceLocation()),
                            error.getError()));
        }
        if (!byLocation.isEmpty()) {
            problems.addAll(byLocation.values());
            return null;
        }
        String key = assertFormats + ":" + schema;
        JsonSchema cached = compiled.get(key);
        if (cached != null) return cached;
        try {
            JsonSchema result = FACTORY.getSchema(schema, config(assertFormats));
            result.initializeValidators();
            compiled.put(key, result);
            return result;
        } catch (RuntimeException e) { // e.g. an unresolvable $ref, an invalid regular expression
            problems.add(new ContractException.Problem(
                    line(schema), where, "the schema does not compile: " + e.getMessage()));
            return null;
        }
    }

    /** The 1-based line of a node read from a file with locations, else 0. */
    static int line(JsonNode node) {
        JsonLocation location = node instanceof JsonLocationAware aware ? aware.tokenLocation() : null;
        return location == null || location.getLineNr() < 0 ? 0 : location.getLineNr();
    }

    /** The node at a path, or the deepest node on the way to it (for a line number). */
    private static JsonNode at(JsonNode root, JsonNodePath path) {
        JsonNode current = root;
        for (int i = 0; i < path.getNameCount(); i++) {
            Object element = path.getElement(i);
            JsonNode next = element instanceof Integer index ? current.get(index) : current.get(element.toString());
            if (next == null) return current;
            current = next;
        }
        return current;
    }

    /** Renders key paths the way a user reads their YAML: {@code events."Order Completed".properties}. */
    static final class KeyPath {
        private KeyPath() {}

        static String child(String parent, String key) {
            String rendered = key.matches("[A-Za-z_$][A-Za-z0-9_$-]*") ? key : "\"" + key.replace("\"", "\\\"") + "\"";
            return parent.isEmpty() ? rendered : parent + "." + rendered;
        }

        /** A path inside a schema, appended to the key path of the schema: {@code .properties.total.type}. */
        static String of(JsonNodePath path) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < path.getNameCount(); i++) {
                Object element = path.getElement(i);
                if (element instanceof Integer index)
                    out.append('[').append(index).append(']');
                else out.append('.').append(child("", element.toString()));
            }
            return out.toString();
        }
    }
}
