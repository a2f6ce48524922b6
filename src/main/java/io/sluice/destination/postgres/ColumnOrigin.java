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
        path = List.copyOf(path); // the same instance when already immutable (the name memo's, see EventMapper)
    }

    /**
     * Element by element, without the iterator an immutable list's equals takes (origins are compared for every
     * value of a batch); origins of one event path share the memo's list, so that case is an identity check.
     */
    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof ColumnOrigin other) || kind != other.kind || alternate != other.alternate) return false;
        if (path == other.path) return true;
        int n = path.size();
        if (other.path.size() != n) return false;
        for (int i = 0; i < n; i++) if (!path.get(i).equals(other.path.get(i))) return false;
        return true;
    }

    @Override
    public int hashCode() {
        int h = kind.hashCode() * 31 + Boolean.hashCode(alternate);
        for (int i = 0, n = path.size(); i < n; i++) h = 31 * h + path.get(i).hashCode();
        return h;
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
