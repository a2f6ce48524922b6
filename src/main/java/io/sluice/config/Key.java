package io.sluice.config;

/**
 * One configuration key, declared once: its name, type, default and documentation. The same constant reads the
 * value ({@link Values#get(Key)}), so a key cannot be declared under one spelling and read under another.
 *
 * @param defaultValue the raw default, or null when the key is required
 */
public record Key<T>(String name, Kind<T> kind, String defaultValue, String doc, boolean secret)
        implements ConfigSchema.Node {

    static <T> Key<T> key(String name, Kind<T> kind, String defaultValue, String doc) {
        return new Key<>(name, kind, defaultValue, doc, false);
    }

    static <T> Key<T> required(String name, Kind<T> kind, String doc) {
        return new Key<>(name, kind, null, doc, false);
    }

    /** A key whose value is redacted in the effective configuration. */
    static <T> Key<T> secret(String name, Kind<T> kind, String defaultValue, String doc) {
        return new Key<>(name, kind, defaultValue, doc, true);
    }

    // Keys are told apart by identity: two keys may be declared alike in different sections.
    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
