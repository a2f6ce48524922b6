package io.sluice.function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs transform over a batch's events on one context at a time, async transforms included: events start in order,
 * up to {@code window} waiting at once; the answers of their {@code fetch} calls are handed to the script on this
 * thread as they arrive (GraalJS contexts are single-threaded; the promise jobs they enable run before each call
 * returns), and each event's result lands in its own slot, so the output keeps the input's order. Script failures
 * stay with their event — unless a called service is failing in this batch: then an event's failure is likely the
 * service's, and the whole batch is given up with a {@link DependencyFailure}, to wait and be retried.
 */
final class EventRuns {
    /** Where contexts come from: a pool, or the one context of a trial run. */
    interface Contexts {
        JsContext borrow();

        void release(JsContext context);
    }

    /** Per event: its encoded result (null: dropped) or its failure. */
    record Results(String[] encoded, ScriptFailure[] failures) {}

    private final Contexts contexts;
    private final FetchSession session;
    private final String syncId;
    private final Duration timeout;
    private final int window;
    private final String[] encoded;
    private final ScriptFailure[] failures;
    private final Set<Integer> pending = new LinkedHashSet<>();
    private int failed;
    private JsContext js;

    private EventRuns(Contexts contexts, FetchSession session, String syncId, Duration timeout, int window, int n) {
        this.contexts = contexts;
        this.session = session;
        this.syncId = syncId;
        this.timeout = timeout;
        this.window = window;
        this.encoded = new String[n];
        this.failures = new ScriptFailure[n];
    }

    /**
     * @param timeout the longest one entry into the script may take (the watchdog cancels it)
     * @param onEvent told the time of each event's synchronous part (what it awaits is timed by fetch's meters)
     * @throws DependencyFailure when a called service is failing and an event failed, or the calls outlasted the batch
     */
    static Results run(
            Contexts contexts,
            FetchSession session,
            String syncId,
            List<ObjectNode> events,
            Duration timeout,
            int window,
            java.util.function.LongConsumer onEvent) {
        EventRuns runs = new EventRuns(contexts, session, syncId, timeout, window, events.size());
        try {
            runs.all(events, onEvent);
        } finally {
            runs.finish();
        }
        return new Results(runs.encoded, runs.failures);
    }

    private void all(List<ObjectNode> events, java.util.function.LongConsumer onEvent) {
        int next = 0;
        while (next < events.size() || !pending.isEmpty()) {
            while (next < events.size() && pending.size() < window) {
                long begun = System.nanoTime();
                start(next, events.get(next));
                next++;
                onEvent.accept(System.nanoTime() - begun);
            }
            if (pending.isEmpty()) continue;
            if (session.outstanding() == 0) {
                // nothing in flight can settle these: the Promise awaits something that never comes
                for (int slot : List.copyOf(pending))
                    fail(slot, ScriptFailure.rejected("transform's Promise never settled (only fetch can be awaited)"));
                continue;
            }
            FetchSession.Completion completion;
            try {
                completion = session.next();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the function's fetch calls", e);
            }
            if (completion == null) throw new DependencyFailure(syncId, session.timedOut(), session.resumeAt());
            answer(completion);
        }
    }

    private void start(int slot, ObjectNode event) {
        if (js == null) js = contexts.borrow();
        try {
            String result = js.call(Outputs.json(event), slot, timeout);
            if (JsContext.PENDING.equals(result)) pending.add(slot);
            else encoded[slot] = result;
        } catch (ScriptFailure e) {
            fail(slot, e);
        }
        collect(session.enabled() || !pending.isEmpty());
    }

    private void answer(FetchSession.Completion completion) {
        try {
            switch (completion.outcome()) {
                case FetchClient.Answered answered -> {
                    if (answered.dependencyFailure() != null)
                        session.serviceFailed(answered.dependencyFailure(), answered.resumeAt());
                    js.settle(completion.id(), responseJson(answered.response()), timeout);
                }
                case FetchClient.Failed f -> {
                    session.serviceFailed(f.failure(), f.resumeAt());
                    js.fail(completion.id(), f.message(), timeout);
                }
                case FetchClient.Refused refused -> js.fail(completion.id(), refused.message(), timeout);
            }
        } catch (ScriptFailure e) {
            for (int slot : List.copyOf(pending)) fail(slot, e); // the context broke: whatever waited in it is lost
        }
        collect(true);
    }

    /**
     * Takes what the script reported since the last entry (with {@code drain}: the calls it started, handed to the
     * session, and its async results); a failure while a service is failing gives the batch up.
     */
    private void collect(boolean drain) {
        if (js != null && drain && !js.broken()) {
            try {
                for (String out = js.drain(timeout); out != null && !js.broken(); out = js.drain(timeout)) take(out);
            } catch (ScriptFailure e) {
                for (int slot : List.copyOf(pending)) fail(slot, e);
            }
        }
        if (js != null && js.broken()) {
            for (int slot : List.copyOf(pending))
                fail(slot, ScriptFailure.rejected("the function's context was cancelled while this event waited"));
            contexts.release(js);
            js = null;
        }
        if (failed > 0 && session.dependencyFailure() != null)
            throw new DependencyFailure(syncId, session.dependencyFailure(), session.resumeAt());
    }

    private void take(String out) throws ScriptFailure {
        JsonNode reported;
        try {
            reported = Outputs.MAPPER.readTree(out);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the prelude reported unreadable JSON", e);
        }
        for (JsonNode call : reported.path("calls"))
            session.start(call.path("id").asInt(), call);
        for (JsonNode result : reported.path("done")) {
            int slot = result.get(0).asInt();
            if (!pending.remove(slot)) continue;
            JsonNode value = result.get(1);
            if (value.isNull()) {
                encoded[slot] = null;
            } else if (JsContext.THREW.equals(value.asText())) {
                fail(
                        slot,
                        js.broken()
                                ? ScriptFailure.rejected("the function's context was cancelled")
                                : js.rejection(slot, timeout));
            } else {
                try {
                    encoded[slot] = JsContext.accepted(value.asText());
                } catch (ScriptFailure e) {
                    fail(slot, e);
                }
            }
        }
    }

    private void fail(int slot, ScriptFailure failure) {
        pending.remove(slot);
        failures[slot] = failure;
        failed++;
    }

    private static String responseJson(FetchClient.Response response) {
        ObjectNode json = Outputs.MAPPER.createObjectNode();
        json.put("status", response.status());
        ObjectNode headers = json.putObject("headers");
        response.headers().forEach(headers::put);
        json.put("body", response.body());
        json.put("url", response.url());
        return json.toString();
    }

    private void finish() {
        session.close();
        if (js == null) return;
        try {
            js.forget(timeout);
        } catch (ScriptFailure e) {
            // broken while forgetting: the pool closes it
        }
        contexts.release(js);
        js = null;
    }
}
