package io.sluice.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One source's tracking plan, compiled: which track events are planned, a JSON Schema per event for its
 * {@code properties}, schemas for identify and group {@code traits}, and what to do with events that break it.
 * Immutable and thread-safe; built by {@link ContractReader}.
 */
public final class Contract {
    /** What happens to a track event whose name is not in the plan. */
    public enum Unplanned {
        ALLOW,
        BLOCK
    }

    /** What happens to an event that fails its schema. */
    public enum OnViolation {
        ALLOW,
        BLOCK,
        OMIT
    }

    private static final ObjectNode EMPTY = JsonNodeFactory.instance.objectNode();
    /** Violations recorded per event at most (an event with a long array can fail thousands of times). */
    static final int MAX_RECORDED_PER_EVENT = 20;

    private static final int MAX_TEXT = 500;
    private static final Pattern SIMPLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String sourceId;
    private final Unplanned unplanned;
    private final OnViolation onViolation;
    private final boolean assertFormats;
    private final Map<String, JsonSchema> events; // planned name -> properties schema (null: any properties)
    private final JsonSchema identifyTraits;
    private final JsonSchema groupTraits;

    Contract(
            String sourceId,
            Unplanned unplanned,
            OnViolation onViolation,
            boolean assertFormats,
            Map<String, JsonSchema> events,
            JsonSchema identifyTraits,
            JsonSchema groupTraits) {
        this.sourceId = sourceId;
        this.unplanned = unplanned;
        this.onViolation = onViolation;
        this.assertFormats = assertFormats;
        this.events = events;
        this.identifyTraits = identifyTraits;
        this.groupTraits = groupTraits;
    }

    /**
     * Checks one validated and enriched event (it has its type, messageId and sourceId), appending what it breaks
     * to {@code violations}. Returns false when the event must not be delivered; in {@code omit} mode the invalid
     * top-level properties (or traits) have been removed from the event when this returns.
     */
    public boolean admit(ObjectNode event, Instant occurredAt, List<Violation> violations) {
        String type = event.path("type").asText();
        return switch (type) {
            case "track" -> {
                String name = event.path("event").asText();
                if (!events.containsKey(name)) {
                    String action = unplanned == Unplanned.BLOCK ? "block" : "allow";
                    violations.add(violation(
                            event,
                            type,
                            name,
                            Violation.UNPLANNED_EVENT,
                            "$.event",
                            "event '" + name + "' is not in the tracking plan",
                            action,
                            occurredAt));
                    yield unplanned == Unplanned.ALLOW;
                }
                JsonSchema schema = events.get(name);
                yield schema == null || conforms(schema, event, "properties", type, name, occurredAt, violations);
            }
            case "identify" ->
                identifyTraits == null || conforms(identifyTraits, event, "traits", type, null, occurredAt, violations);
            case "group" ->
                groupTraits == null || conforms(groupTraits, event, "traits", type, null, occurredAt, violations);
            default -> true;
        };
    }

    private boolean conforms(
            JsonSchema schema,
            ObjectNode event,
            String field,
            String type,
            String name,
            Instant occurredAt,
            List<Violation> violations) {
        JsonNode value = event.get(field);
        Set<ValidationMessage> errors = schema.validate(value == null || value.isNull() ? EMPTY : value);
        if (errors.isEmpty()) return true;
        List<String> omitted = new ArrayList<>();
        int recorded = 0;
        for (ValidationMessage error : errors) {
            String offending = offendingField(error);
            String action = switch (onViolation) {
                case ALLOW -> "allow";
                case BLOCK -> "block";
                // A violation that names no property (a missing required one, minProperties) cannot be omitted.
                case OMIT -> offending == null ? "allow" : "omit";
            };
            if (onViolation == OnViolation.OMIT && offending != null) omitted.add(offending);
            if (recorded++ < MAX_RECORDED_PER_EVENT) {
                violations.add(violation(
                        event, type, name, error.getType(), path(field, error), error.getError(), action, occurredAt));
            }
        }
        if (onViolation == OnViolation.BLOCK) return false;
        if (!omitted.isEmpty() && value instanceof ObjectNode object) object.remove(omitted);
        return true;
    }

    /** The top-level property an error is about: the first step of its path, or the property it names at the root. */
    private static String offendingField(ValidationMessage error) {
        JsonNodePath location = error.getInstanceLocation();
        if (location.getNameCount() > 0) return location.getName(0);
        String type = error.getType();
        boolean namesPresentProperty = "additionalProperties".equals(type)
                || "unevaluatedProperties".equals(type)
                || "propertyNames".equals(type);
        return namesPresentProperty ? error.getProperty() : null;
    }

    /** {@code $.properties.items[0].sku}; a named property (missing, or not allowed) is appended to its object's path. */
    private static String path(String field, ValidationMessage error) {
        StringBuilder out = new StringBuilder("$.").append(field);
        JsonNodePath location = error.getInstanceLocation();
        for (int i = 0; i < location.getNameCount(); i++) appendStep(out, location.getElement(i));
        if (error.getProperty() != null) appendStep(out, error.getProperty());
        return out.toString();
    }

    private static void appendStep(StringBuilder out, Object step) {
        if (step instanceof Integer index) {
            out.append('[').append(index).append(']');
        } else {
            String name = step.toString();
            if (SIMPLE_NAME.matcher(name).matches()) out.append('.').append(name);
            else
                out.append("['")
                        .append(name.replace("\\", "\\\\").replace("'", "\\'"))
                        .append("']");
        }
    }

    private Violation violation(
            ObjectNode event,
            String type,
            String name,
            String rule,
            String path,
            String message,
            String action,
            Instant occurredAt) {
        // Names and paths come from the client: capped, so that a record of violations stays well under Kafka's 1 MB.
        return new Violation(
                sourceId,
                cap(event.path("messageId").asText(), MAX_TEXT),
                type,
                name == null ? null : cap(name, MAX_TEXT),
                rule,
                cap(path, MAX_TEXT),
                cap(message, MAX_TEXT),
                action,
                occurredAt);
    }

    private static String cap(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 1) + "…";
    }

    public String sourceId() {
        return sourceId;
    }

    public Unplanned unplanned() {
        return unplanned;
    }

    public OnViolation onViolation() {
        return onViolation;
    }

    public boolean assertFormats() {
        return assertFormats;
    }

    /** The planned track event names. */
    public Set<String> plannedEvents() {
        return events.keySet();
    }

    public boolean checksIdentify() {
        return identifyTraits != null;
    }

    public boolean checksGroup() {
        return groupTraits != null;
    }

    @Override
    public String toString() {
        return "Contract[source=" + sourceId + ", unplannedEvents="
                + unplanned.name().toLowerCase(Locale.ROOT)
                + ", violations=" + onViolation.name().toLowerCase(Locale.ROOT) + ", formats="
                + (assertFormats ? "assert" : "annotate")
                + ", events=" + events.size() + ", identify=" + checksIdentify() + ", group=" + checksGroup() + "]";
    }
}
