package io.sluice.function;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What a sync's function made of a batch: the events to deliver (in order; fan-out expanded, drops removed) and the
 * events that failed (to dead-letter), and how many events it {@code dropped} (returned nothing for). Without a function, {@code output} is the input list itself.
 */
public record FunctionResult(List<ObjectNode> output, List<FunctionFailure> failures, int dropped) {
    /** Nothing dropped. */
    public FunctionResult(List<ObjectNode> output, List<FunctionFailure> failures) {
        this(output, failures, 0);
    }
}
