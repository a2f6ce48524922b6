package io.sluice.privacy;

import java.util.Locale;

/** What a privacy request asks for (docs/privacy.md). */
public enum PrivacyKind {
    /** Stop collecting: every collector drops the ids' events from now on. */
    SUPPRESS,
    /** Collect again. */
    UNSUPPRESS,
    /** Delete what Sluice and its destinations hold of the ids, and discard their older events still to deliver. */
    DELETE;

    public String column() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind named {@code text} (suppress, unsuppress, delete), or null. */
    public static PrivacyKind parse(String text) {
        if (text == null) return null;
        for (PrivacyKind kind : values()) if (kind.column().equals(text.trim().toLowerCase(Locale.ROOT))) return kind;
        return null;
    }
}
