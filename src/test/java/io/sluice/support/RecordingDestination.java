package io.sluice.support;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.Destination;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * A destination for tests of the delivery machinery: it keeps what it receives, and fails when the test's script
 * says so (the script sees each batch and returns an exception to throw, or null to accept it).
 */
public final class RecordingDestination implements Destination {
    private final List<ObjectNode> events = Collections.synchronizedList(new ArrayList<>());
    private final ConcurrentLinkedQueue<DeliveryBatch> batches = new ConcurrentLinkedQueue<>();
    private volatile Function<DeliveryBatch, Exception> script = batch -> null;
    private volatile Function<ObjectNode, DeliveryException> eventScript;

    /**
     * Makes this an event-by-event destination: each event is judged alone; after a retriable failure of a user's
     * event, that user's later events in the same call are held back (reported, not delivered), like a webhook.
     */
    public void failEvents(Function<ObjectNode, DeliveryException> script) {
        this.eventScript = script;
    }

    @Override
    public boolean deliversEventByEvent() {
        return eventScript != null;
    }

    public void failWith(Function<DeliveryBatch, Exception> script) {
        this.script = script;
    }

    @Override
    public DeliveryReport deliver(DeliveryBatch batch) throws Exception {
        Exception failure = script.apply(batch);
        if (failure != null) throw failure;
        batches.add(batch);
        if (eventScript == null) {
            events.addAll(batch.events());
            return DeliveryReport.delivered();
        }
        List<DeliveryReport.EventFailure> failures = new ArrayList<>();
        Set<String> blocked = new HashSet<>();
        for (ObjectNode event : batch.events()) {
            String user = event.path("userId").asText();
            if (blocked.contains(user)) {
                failures.add(new DeliveryReport.EventFailure(
                        event, DeliveryException.of(FailureClass.NOT_SENT, "held behind", null), null, null));
                continue;
            }
            DeliveryException error = eventScript.apply(event);
            if (error == null) {
                events.add(event);
            } else {
                failures.add(new DeliveryReport.EventFailure(event, error, error.isRetriable() ? 503 : 400, null));
                if (error.isRetriable()) blocked.add(user);
            }
        }
        return new DeliveryReport(failures);
    }

    public List<ObjectNode> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    public List<DeliveryBatch> batches() {
        return List.copyOf(batches);
    }

    public static Exception retriable(String message) {
        return DeliveryException.of(FailureClass.RESPONSIVE_ERROR, message, null);
    }

    public static Exception permanent(String message) {
        return DeliveryException.of(FailureClass.PERMANENT, message, null);
    }
}
