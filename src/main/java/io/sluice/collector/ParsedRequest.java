package io.sluice.collector;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A request body split into its envelope (batch-level writeKey, sentAt, context) and its events, each as scanned
 * in the body (its bytes, its size on the wire, its top-level fields).
 */
record ParsedRequest(byte[] body, List<EventScan> events, String writeKey, String sentAt, ObjectNode context) {

    /** The events as trees, for the code that needs one (contracts); the bytes are known to be valid JSON. */
    List<ObjectNode> trees(ObjectMapper mapper) {
        List<ObjectNode> trees = new ArrayList<>(events.size());
        try {
            for (EventScan event : events) {
                trees.add((ObjectNode) mapper.readTree(body, event.start, event.size()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("an event the parser accepted could not be read again", e);
        }
        return trees;
    }
}
