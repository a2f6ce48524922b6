package io.sluice.function;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What a sync's function made of a batch: the events to deliver (in order; fan-out expanded, drops removed) and the
 * events that failed (to dead-letter). Without a function, {@code output} is the input list itself.
 */
public record FunctionResult(List<ObjectNode> output, List<FunctionFailure> failures) {}
