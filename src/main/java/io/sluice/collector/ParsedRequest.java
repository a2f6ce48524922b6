package io.sluice.collector;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A request body split into its envelope (batch-level writeKey, sentAt, context) and its events, each with the
 * size it had on the wire.
 */
record ParsedRequest(List<ObjectNode> events, int[] eventSizes, String writeKey, String sentAt, ObjectNode context) {}
