package io.sluice.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.sse.SseClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The live debugger's Server-Sent Events: on open, the source's kept items (events, refused requests, contract
 * violations), then each new one. Every client has its own bounded queue and writer thread, so a slow browser
 * drops its own items (it is told how many) and never holds up the tail or other clients. Refused requests whose
 * write key matched no source ("unknown") are shown on every source's page: that is where someone looks for them.
 */
final class LiveStream implements AutoCloseable {
    private static final int QUEUE = 1000;
    private static final Duration HEARTBEAT = Duration.ofSeconds(15);
    /** What anyone may see of an item; the rest of the record needs payload access. */
    private static final Set<String> PUBLIC_FIELDS = Set.of(
            "type",
            "event",
            "messageId",
            "receivedAt",
            "sourceId",
            "rule",
            "index",
            "status",
            "message",
            "action",
            "eventType",
            "eventName",
            "path");

    private final EventTail tail;
    private final ConsoleAccess access;
    private final Set<SseClient> clients = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    LiveStream(EventTail tail, ConsoleAccess access) {
        this.tail = tail;
        this.access = access;
    }

    void open(SseClient client) {
        String sourceId = client.ctx().pathParam("id");
        boolean payloads = access.payloads(client.ctx());
        client.keepAlive();
        clients.add(client);
        if (closed) { // stopping: a stream opened now would outlive the server
            clients.remove(client);
            client.close();
            return;
        }
        BlockingQueue<EventTail.Item> queue = new ArrayBlockingQueue<>(QUEUE);
        int[] dropped = {0};
        Consumer<EventTail.Item> listener = item -> {
            if (!matches(item, sourceId)) return;
            if (!queue.offer(item)) dropped[0]++;
        };
        // Listen first, then send what is kept: an item arriving in between is sent twice, never lost (the page
        // drops duplicates by topic position).
        tail.listen(listener);
        List<EventTail.Item> kept = tail.recent(sourceId);
        if (!sourceId.equals("unknown")) kept = merge(kept, tail.recent("unknown"));
        List<EventTail.Item> initial = kept;
        Thread.ofVirtual().name("sluice-console-sse").start(() -> {
            try {
                client.sendEvent("hello", "{\"payloads\":" + payloads + "}");
                for (EventTail.Item item : initial) send(client, item, payloads);
                long nextHeartbeat = System.nanoTime() + HEARTBEAT.toNanos();
                while (!client.terminated()) {
                    EventTail.Item item = queue.poll(500, TimeUnit.MILLISECONDS);
                    if (item != null) send(client, item, payloads);
                    if (dropped[0] > 0) {
                        client.sendEvent("dropped", Integer.toString(dropped[0]));
                        dropped[0] = 0;
                    }
                    if (System.nanoTime() > nextHeartbeat) {
                        client.sendComment("heartbeat");
                        nextHeartbeat = System.nanoTime() + HEARTBEAT.toNanos();
                    }
                }
            } catch (Exception e) {
                // the browser went away
            } finally {
                tail.unlisten(listener);
                clients.remove(client);
                client.close();
            }
        });
        client.onClose(() -> tail.unlisten(listener));
    }

    private static List<EventTail.Item> merge(List<EventTail.Item> a, List<EventTail.Item> b) {
        List<EventTail.Item> all = new ArrayList<>(a);
        b.stream().filter(i -> i.kind().equals("rejection")).forEach(all::add);
        all.sort((x, y) -> x.json()
                .path("receivedAt")
                .asText("")
                .compareTo(y.json().path("receivedAt").asText("")));
        return all;
    }

    private static boolean matches(EventTail.Item item, String sourceId) {
        return item.sourceId().equals(sourceId)
                || (item.kind().equals("rejection") && item.sourceId().equals("unknown"));
    }

    private static void send(SseClient client, EventTail.Item item, boolean payloads) {
        ObjectNode out = item.json().deepCopy();
        out.put("kind", item.kind());
        if (!payloads) {
            JsonNode record = out.get("record");
            ObjectNode visible = out.putObject("record");
            if (record != null)
                record.properties().forEach(e -> {
                    if (PUBLIC_FIELDS.contains(e.getKey())) visible.set(e.getKey(), e.getValue());
                });
            out.put("redacted", true);
        }
        client.sendEvent(item.kind(), out.toString());
    }

    /**
     * Ends every open stream. Must run while the HTTP server still has their responses (Console registers it for
     * the server's "stopping" event): ending a stream completes its request, and completing one whose response
     * Jetty already recycled sent Javalin's error handling round in circles, millions of log lines (issue 25, bug 1).
     */
    @Override
    public void close() {
        closed = true;
        for (SseClient client : clients) {
            try {
                client.close();
            } catch (RuntimeException e) {
                // the response is gone already: nothing left to end
            }
            clients.remove(client);
        }
    }
}
