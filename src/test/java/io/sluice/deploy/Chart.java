package io.sluice.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The Helm chart of deploy/helm/sluice, rendered and linted by Helm's own code (helm-java bundles it). */
final class Chart {
    static final Path DIR = Path.of("deploy/helm/sluice");
    static final Path PRODUCTION_VALUES = DIR.resolve("ci/production-values.yaml");
    /** What the chart cannot run without: the external Kafka and PostgreSQL. */
    static final Map<String, Object> REQUIRED = Map.of(
            "kafka.bootstrapServers", "kafka-0.kafka:9092", "postgres.url", "jdbc:postgresql://queue-db:5432/sluice");

    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private Chart() {}

    /** {@code helm template sluice deploy/helm/sluice -n sluice [-f valuesFile] --set k=v...}, as YAML text. */
    static String template(Path valuesFile, Map<String, Object> sets) {
        var command = new Helm(DIR).template().withName("sluice").withNamespace("sluice");
        if (valuesFile != null) command = command.withValuesFile(valuesFile);
        for (var set : sets.entrySet()) command = command.set(set.getKey(), set.getValue());
        return command.call();
    }

    /** Every manifest of the rendering, each parsed by the strict fabric8 model (see {@link StrictModel}). */
    static List<HasMetadata> render(Path valuesFile, Map<String, Object> sets) {
        List<HasMetadata> manifests = new ArrayList<>();
        for (String document : DOCUMENT_SEPARATOR.split(template(valuesFile, sets))) {
            if (document.lines().allMatch(line -> line.isBlank() || line.startsWith("#"))) continue;
            HasMetadata manifest = SERIALIZATION.unmarshal(document);
            StrictModel.assertNoUnknownFields(manifest);
            manifests.add(manifest);
        }
        return manifests;
    }

    /**
     * {@code helm lint --strict} of a copy of the chart whose values.yaml is the chart's merged with {@code values}:
     * lint renders with the chart's own values only (helm-java takes no values file for it), and the chart refuses
     * to render without an external Kafka and PostgreSQL.
     */
    static LintResult lint(Path values, Path scratch) {
        Path copy = scratch.resolve("sluice");
        try (Stream<Path> files = Files.walk(DIR)) {
            for (Path file : files.toList()) {
                Path target = copy.resolve(DIR.relativize(file).toString());
                if (Files.isDirectory(file)) Files.createDirectories(target);
                else Files.copy(file, target);
            }
            ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
            ObjectNode merged =
                    (ObjectNode) yaml.readTree(DIR.resolve("values.yaml").toFile());
            merge(merged, (ObjectNode) yaml.readTree(values.toFile()));
            yaml.writeValue(copy.resolve("values.yaml").toFile(), merged);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Helm(copy).lint().strict().call();
    }

    /** Helm's way of layering values: mappings merge key by key, anything else replaces. */
    private static void merge(ObjectNode into, ObjectNode from) {
        from.properties().forEach(field -> {
            JsonNode existing = into.get(field.getKey());
            if (existing instanceof ObjectNode target && field.getValue() instanceof ObjectNode source) {
                merge(target, source);
            } else {
                into.set(field.getKey(), field.getValue());
            }
        });
    }
}
