package io.sluice.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key Sluice knows, declared once with its type, default and documentation (in the spirit of
 * Kafka's ConfigDef) as typed {@link Key} constants: {@link ServerSchema} (the process), {@link PipelineSchema}
 * (sources and syncs) and {@link DestinationSchema} (each destination type). The same constants build the records
 * of {@link SluiceConfig}; nothing reads a value by a string key. Keys are never renamed.
 */
public final class ConfigSchema {

    /** A named part of the schema; its name is its key in the YAML mapping. */
    public sealed interface Node permits Key, Section, ListOf, Opaque {
        String name();
    }

    /**
     * A value whose shape its own component validates (a contract, a function's settings): kept as the YAML tree,
     * after ${...} expansion. Optional.
     */
    public record Opaque(String name, String doc) implements Node {}

    /** A mapping of named nodes, in the order they are documented. */
    public record Section(String name, Map<String, Node> children) implements Node {
        static Section of(String name, Node... children) {
            Map<String, Node> byName = new LinkedHashMap<>();
            for (Node child : children) {
                if (byName.put(child.name(), child) != null)
                    throw new IllegalStateException("key " + child.name() + " is declared twice in " + name);
            }
            return new Section(name, java.util.Collections.unmodifiableMap(byName));
        }
    }

    /**
     * A list of sections, e.g. {@code sources}; {@code standaloneDefault} is used when no config file exists. With
     * {@code variants}, an element's {@code type} chooses which further keys it has (destinations).
     */
    public record ListOf(
            String name,
            Section element,
            String doc,
            List<Map<String, String>> standaloneDefault,
            boolean required,
            Map<String, Section> variants)
            implements Node {

        /** The keys an element with this type may have, or null for an unknown type. */
        Section elementFor(String type) {
            if (variants.isEmpty()) return element;
            Section variant = variants.get(type);
            if (variant == null) return null;
            Map<String, Node> merged = new LinkedHashMap<>(element.children());
            merged.putAll(variant.children());
            return new Section(element.name(), merged);
        }
    }

    public static final Section ROOT = Section.of(
            "",
            ServerSchema.DATA_DIR,
            ServerSchema.Kafka.SECTION,
            ServerSchema.Postgres.SECTION,
            ServerSchema.Collector.SECTION,
            ServerSchema.Admin.SECTION,
            PipelineSchema.SOURCES,
            DestinationSchema.DESTINATIONS,
            PipelineSchema.SYNCS,
            ServerSchema.Functions.SECTION,
            ServerSchema.DeadLetters.SECTION,
            ServerSchema.Planner.SECTION,
            ServerSchema.Worker.SECTION,
            ArchiveSchema.SECTION);

    private ConfigSchema() {}

    /** The configuration records from the loaded values (of {@link #ROOT}); cross-field checks come after. */
    static SluiceConfig read(Values v, String origin, Path baseDir, String effective) {
        List<SluiceConfig.SourceSettings> sources = PipelineSchema.sources(v.list(PipelineSchema.SOURCES));
        List<SluiceConfig.DestinationSettings> destinations =
                DestinationSchema.destinations(v.list(DestinationSchema.DESTINATIONS));
        return new SluiceConfig(
                Path.of(v.get(ServerSchema.DATA_DIR)),
                ServerSchema.Kafka.read(v.in(ServerSchema.Kafka.SECTION)),
                ServerSchema.Postgres.read(v.in(ServerSchema.Postgres.SECTION)),
                ServerSchema.Collector.read(v.in(ServerSchema.Collector.SECTION)),
                ServerSchema.Admin.read(v.in(ServerSchema.Admin.SECTION)),
                sources,
                destinations,
                PipelineSchema.syncs(v.list(PipelineSchema.SYNCS), sources, destinations),
                ServerSchema.Planner.read(v.in(ServerSchema.Planner.SECTION)),
                ServerSchema.Worker.read(v.in(ServerSchema.Worker.SECTION)),
                ServerSchema.Functions.read(v.in(ServerSchema.Functions.SECTION)),
                v.in(ServerSchema.DeadLetters.SECTION).get(ServerSchema.DeadLetters.RETENTION),
                baseDir,
                origin,
                effective,
                ArchiveSchema.read(v.in(ArchiveSchema.SECTION)));
    }

    /** One line per key: path, type, default and doc. Printed by {@code sluice config --keys}. */
    public static String describeKeys() {
        StringBuilder out = new StringBuilder();
        describe(ROOT, "", out);
        return out.toString();
    }

    private static void describe(Section section, String prefix, StringBuilder out) {
        section.children().forEach((name, node) -> {
            String path = prefix + name;
            switch (node) {
                case Key<?> k
                when k.kind().shape == Kind.Shape.MAPPING ->
                    out.append(String.format("%-28s %s; optional. %s%n", path, k.kind().description, k.doc()));
                case Key<?> k ->
                    out.append(String.format(
                            "%-28s %s; default: %s. %s%n",
                            path,
                            k.kind().description,
                            k.defaultValue() == null ? "(required)" : "'" + k.defaultValue() + "'",
                            k.doc()));
                case Section s -> describe(s, path + ".", out);
                case Opaque o -> out.append(String.format("%-28s a mapping; optional. %s%n", path, o.doc()));
                case ListOf l -> {
                    out.append(String.format("%-28s %s%n", path + "[]", l.doc()));
                    describe(l.element(), path + "[].", out);
                    l.variants().forEach((type, variant) -> describe(variant, path + "[type=" + type + "].", out));
                }
            }
        });
    }
}
