package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * fabric8's model classes keep fields they do not know (a typo, a field at the wrong level, a value of the wrong
 * type) in {@code additionalProperties} instead of refusing them; this walk makes them an error, so a manifest the
 * API server would reject or silently prune fails the test. Custom resources without a model class (KEDA's) stay
 * generic and are checked field by field by the tests.
 */
final class StrictModel {
    private StrictModel() {}

    static void assertNoUnknownFields(Object manifest) {
        List<String> unknown = new ArrayList<>();
        walk(manifest, manifest.getClass().getSimpleName(), unknown);
        assertThat(unknown).as("fields the Kubernetes model does not know").isEmpty();
    }

    private static void walk(Object node, String path, List<String> unknown) {
        if (node == null || node instanceof GenericKubernetesResource) return;
        if (node instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) walk(item, path + "[" + i++ + "]", unknown);
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((key, value) -> walk(value, path + "." + key, unknown));
            return;
        }
        if (!node.getClass().getPackageName().startsWith("io.fabric8")) return;
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0
                    || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get")
                    || getter.getDeclaringClass() == Object.class) continue;
            Object value;
            try {
                value = getter.invoke(node);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    unknown.add(path + ": " + extra.keySet());
                }
            } else {
                walk(value, path + "." + getter.getName().substring(3), unknown);
            }
        }
    }
}
