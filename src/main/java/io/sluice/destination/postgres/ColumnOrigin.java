package io.sluice.destination.postgres;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a payload column's value came from: which part of the event ({@code kind}) and the path of keys inside it.
 * {@code alternate} marks the second value of one event that met another in one column name (docs/warehouse.md,
 * "Flattening"): it has a column of its own. Together they are the input of the column's name, and one row of the
 * mapping table {@code _sluice_columns}.
 */
record ColumnOrigin(Kind kind, List<String> path, boolean alternate) {

    /** The parts of an event that become payload columns, by the name the mapping table gives them. */
    enum Kind {
        PROPERTY("property", "properties"),
        TRAIT("trait", "traits"),
        CONTEXT("context", "context"),
        /** Any other top-level field: its path starts with the field's name. */
        FIELD("field", null);

        final String label;
        /** The event's key this part is under, or null for top-level fields. */
        final String root;

        Kind(String label, String root) {
            this.label = label;
            this.root = root;
        }

        static Kind ofLabel(String label) {
            for (Kind kind : values()) if (kind.label.equals(label)) return kind;
            throw new IllegalArgumentException("unknown column kind '" + label + "'");
        }
    }

    ColumnOrigin {
        path = List.copyOf(path);
    }

    /** The value's path in the whole event: {@code ["properties","a-b"]}, {@code ["channel"]}. */
    List<String> eventPath() {
        if (kind.root == null) return path;
        List<String> full = new ArrayList<>(path.size() + 1);
        full.add(kind.root);
        full.addAll(path);
        return full;
    }

    /** The path as the mapping table's {@code original_name}: a JSON array of the keys, exact for any key. */
    String originalName() {
        return Identifiers.jsonArray(path);
    }
}
