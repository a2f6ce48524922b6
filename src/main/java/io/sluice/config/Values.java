package io.sluice.config;

import io.sluice.config.ConfigSchema.ListOf;
import io.sluice.config.ConfigSchema.Node;
import io.sluice.config.ConfigSchema.Opaque;
import io.sluice.config.ConfigSchema.Section;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The converted values of one section of the file (or one element of a list), filled by {@link ConfigLoader} and
 * read only through the schema's own nodes: {@code values.get(Worker.LEASE_DURATION)} is a {@code Duration}, and
 * reading a key this section does not declare is a programming error, found by any test that loads a config.
 */
final class Values {
    private final String path;
    private final Map<Node, Object> byNode = new IdentityHashMap<>();

    /** @param path where this section is in the file, for messages: "" (top level), "worker", "destinations[0]" */
    Values(String path) {
        this.path = path;
    }

    @SuppressWarnings("unchecked")
    <T> T get(Key<T> key) {
        return (T) require(key);
    }

    /** A free-form value, or null when it is not set. */
    Json get(Opaque opaque) {
        return (Json) require(opaque);
    }

    Values in(Section section) {
        return (Values) require(section);
    }

    @SuppressWarnings("unchecked")
    List<Values> list(ListOf list) {
        return (List<Values>) require(list);
    }

    /** Where a node of this section is in the file: {@code worker.leaseDuration}, {@code sources[1].id}. */
    String path(Node node) {
        return path.isEmpty() ? node.name() : path + "." + node.name();
    }

    void put(Node node, Object value) {
        byNode.put(node, value);
    }

    private Object require(Node node) {
        if (!byNode.containsKey(node))
            throw new IllegalStateException(path(node) + " is read but not declared in this section of ConfigSchema");
        return byNode.get(node);
    }
}
