package io.sluice.config;

import static io.sluice.config.Key.key;
import static io.sluice.config.Key.required;

import io.sluice.config.ConfigSchema.ListOf;
import io.sluice.config.ConfigSchema.Opaque;
import io.sluice.config.ConfigSchema.Section;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.config.SluiceConfig.SourceSettings;
import io.sluice.config.SluiceConfig.SyncSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The keys of sources and syncs, and the records they build (ids unique, references resolved). */
final class PipelineSchema {
    private PipelineSchema() {}

    static final class Source {
        static final Key<String> ID =
                required("id", Kind.IDENTIFIER, "Source id: used in Kafka keys, metrics and warehouse schema names.");
        static final Key<String> WRITE_KEY = new Key<>(
                "writeKey",
                Kind.STRING,
                null,
                "Write key clients authenticate with (HTTP Basic username or 'writeKey' in the body).",
                true);
        static final Opaque CONTRACT = new Opaque(
                "contract",
                "Optional tracking plan: a mapping (see docs/contracts.md) or the path of a YAML file with one, relative to the config file.");
        static final Section ELEMENT = Section.of("sources", ID, WRITE_KEY, CONTRACT);
    }

    static final ListOf SOURCES = new ListOf(
            "sources",
            Source.ELEMENT,
            "Event sources; at least one is required.",
            List.of(Map.of("id", "web", "writeKey", "wk_web_example")),
            true,
            Map.of());

    static final class Sync {
        static final Key<String> ID = required("id", Kind.IDENTIFIER, "Sync id.");
        static final Key<String> SOURCE =
                required("source", Kind.IDENTIFIER, "Id of the source whose events this sync delivers.");
        static final Key<String> DESTINATION =
                required("destination", Kind.IDENTIFIER, "Id of the destination it delivers to.");
        static final Key<String> FUNCTION = key(
                "function",
                Kind.OPTIONAL_STRING,
                "",
                "Optional JavaScript transformation: a .js path relative to the config file, or inline source defining transform(event, context).");
        static final Opaque SETTINGS = new Opaque(
                "settings",
                "Read-only settings handed to the sync's function as context.settings (lookup tables, keys).");
        static final Key<List<String>> FILTER_TYPES =
                key("types", Kind.EVENT_TYPE_LIST, "", "Only these event types (empty: all).");
        static final Key<List<String>> FILTER_EVENTS =
                key("events", Kind.STRING_LIST, "", "Only track events with these names (empty: all names).");
        static final Section FILTER = Section.of("filter", FILTER_TYPES, FILTER_EVENTS);
        static final Key<Integer> MAX_EVENTS =
                key("maxEvents", Kind.POSITIVE_INT, "1000", "A batch is cut at this many matching events.");
        static final Key<Long> MAX_BYTES =
                key("maxBytes", Kind.SIZE, "1MB", "... or at this many bytes of matching events.");
        static final Key<Duration> MAX_AGE =
                key("maxAge", Kind.DURATION, "500ms", "... or this long after its first event was planned.");
        static final Section BATCH = Section.of("batch", MAX_EVENTS, MAX_BYTES, MAX_AGE);
        static final Key<StartFrom> START_FROM = key(
                "startFrom",
                Kind.START_FROM,
                "earliest",
                "Where a new sync starts in each partition: earliest (oldest retained event), latest, or an ISO-8601 instant; history before it: sluice sync backfill (docs/replay.md).");
        static final Section ELEMENT = Section.of(
                "syncs", ID, SOURCE, DESTINATION, FUNCTION, SETTINGS, FetchSchema.SECTION, FILTER, BATCH, START_FROM);
    }

    static final ListOf SYNCS = new ListOf(
            "syncs",
            Sync.ELEMENT,
            "Source-to-destination deliveries.",
            List.of(Map.of("id", "web-to-warehouse", "source", "web", "destination", "warehouse")),
            false,
            Map.of());

    static List<SourceSettings> sources(List<Values> elements) {
        List<SourceSettings> sources = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<String> keys = new HashSet<>();
        for (Values v : elements) {
            SourceSettings source =
                    new SourceSettings(v.get(Source.ID), v.get(Source.WRITE_KEY), v.get(Source.CONTRACT));
            if (!ids.add(source.id()))
                throw new ConfigException(v.path(Source.ID), "duplicate source id '" + source.id() + "'");
            if (!keys.add(source.writeKey()))
                throw new ConfigException(v.path(Source.WRITE_KEY), "the same write key is used by two sources");
            sources.add(source);
        }
        return List.copyOf(sources);
    }

    static List<SyncSettings> syncs(
            List<Values> elements, List<SourceSettings> sources, List<DestinationSettings> destinations) {
        Set<String> sourceIds = sources.stream().map(SourceSettings::id).collect(Collectors.toSet());
        Set<String> destinationIds =
                destinations.stream().map(DestinationSettings::id).collect(Collectors.toSet());
        List<SyncSettings> syncs = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Values v : elements) {
            Values filter = v.in(Sync.FILTER);
            Values batch = v.in(Sync.BATCH);
            SyncSettings sync = new SyncSettings(
                    v.get(Sync.ID),
                    v.get(Sync.SOURCE),
                    v.get(Sync.DESTINATION),
                    filter.get(Sync.FILTER_TYPES),
                    filter.get(Sync.FILTER_EVENTS),
                    batch.get(Sync.MAX_EVENTS),
                    batch.get(Sync.MAX_BYTES),
                    batch.get(Sync.MAX_AGE),
                    v.get(Sync.FUNCTION),
                    v.get(Sync.SETTINGS),
                    v.get(Sync.START_FROM),
                    FetchSchema.read(v.in(FetchSchema.SECTION)));
            if (!ids.add(sync.id()))
                throw new ConfigException(v.path(Sync.ID), "duplicate sync id '" + sync.id() + "'");
            if (!sourceIds.contains(sync.source()))
                throw new ConfigException(v.path(Sync.SOURCE), "no source has id '" + sync.source() + "'");
            if (!destinationIds.contains(sync.destination()))
                throw new ConfigException(
                        v.path(Sync.DESTINATION), "no destination has id '" + sync.destination() + "'");
            syncs.add(sync);
        }
        return List.copyOf(syncs);
    }
}
