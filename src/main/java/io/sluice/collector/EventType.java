package io.sluice.collector;

import java.util.Locale;

/** The six Segment event types. */
public enum EventType {
    TRACK,
    IDENTIFY,
    PAGE,
    SCREEN,
    GROUP,
    ALIAS;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The type named by an event's "type" field, or null. */
    public static EventType fromWire(String name) {
        if (name == null) return null;
        return switch (name) {
            case "track" -> TRACK;
            case "identify" -> IDENTIFY;
            case "page" -> PAGE;
            case "screen" -> SCREEN;
            case "group" -> GROUP;
            case "alias" -> ALIAS;
            default -> null;
        };
    }
}
