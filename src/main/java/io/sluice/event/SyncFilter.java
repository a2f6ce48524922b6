package io.sluice.event;

import io.sluice.config.SluiceConfig.SyncSettings;
import java.util.Set;

/**
 * Which events belong to a sync: its source's events, optionally only some types, and optionally only track
 * events with some names (other types then pass by the type filter alone). Planner and worker apply the same rule.
 */
public final class SyncFilter {
    private final String sourceId;
    private final Set<String> types;
    private final Set<String> trackEvents;

    public SyncFilter(SyncSettings sync) {
        this.sourceId = sync.source();
        this.types = Set.copyOf(sync.filterTypes());
        this.trackEvents = Set.copyOf(sync.filterEvents());
    }

    /** Whether the event's header fields are needed to decide (otherwise the source alone decides). */
    public boolean needsHeader() {
        return !types.isEmpty() || !trackEvents.isEmpty();
    }

    public boolean matchesSource(String source) {
        return sourceId.equals(source);
    }

    public boolean matches(String source, String type, String event) {
        if (!sourceId.equals(source)) return false;
        // null (a record without that field) is never in the sets; Set.of's contains(null) would throw
        if (!types.isEmpty() && (type == null || !types.contains(type))) return false;
        return trackEvents.isEmpty() || !"track".equals(type) || (event != null && trackEvents.contains(event));
    }
}
