package io.sluice.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open-loop HTTP/1.1 load on ONE thread: a {@code /v1/batch} request is due every {@code eventsPerRequest / rate}
 * seconds, whatever the answers do, and goes out on an idle keep-alive connection (a new one is opened when none is
 * idle, up to {@code maxConnections}; beyond that due requests queue in the generator and the delay shows in the
 * latency, which is measured from the time a request was due, not when it was written). Every event gets a unique
 * messageId ({@code bench-} + 16 hex digits of a global counter) written into pre-encoded request templates just
 * before sending, so the warehouse (primary key = messageId) keeps every event. Runs through warm-up and window.
 */
final class PacedLoad {
    private static final String MARKER = "\"messageId\":\"bench-";
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_ERRORS = 1_000;

    /** What one run saw; {@code acceptedEvents} counts 200s over the whole run, the rest only inside the window. */
    record Result(
            long acceptedEvents,
            long sentEvents,
            long okInWindow,
            Map<Integer, Long> non200,
            long errors,
            long unfinished,
            int connectionsUsed,
            LatencyHistogram latencyMicros) {}

    private final InetSocketAddress target;
    private final byte[][] templates;
    private final int[][] idOffsets;
    private final int eventsPerRequest;
    private final long intervalNanos;
    private final int maxConnections;
    private final AtomicLong accepted = new AtomicLong();
    private final LatencyHistogram latency = new LatencyHistogram();
    private final Map<Integer, Long> non200 = new TreeMap<>();
    private final ArrayDeque<HttpLoad.Conn> idle = new ArrayDeque<>();
    private final List<HttpLoad.Conn> all = new ArrayList<>();
    private Selector selector;
    private Window window;
    private long nextEventId;
    private long requestNumber;
    private long okInWindow;
    private long errors;
    private long sentEvents;
    private boolean closedLoop;

    /** @param firstEventId the first messageId's number; loads sharing a warehouse need disjoint ranges */
    PacedLoad(
            InetSocketAddress target,
            BenchEvents generator,
            int eventsPerRequest,
            double eventsPerSecond,
            int maxConnections,
            long firstEventId) {
        this.target = target;
        this.nextEventId = firstEventId;
        this.eventsPerRequest = eventsPerRequest;
        this.intervalNanos = Math.max(1, Math.round(eventsPerRequest * 1e9 / eventsPerSecond));
        this.maxConnections = maxConnections;
        List<ObjectNode> events = generator.events(Math.max(4_000, eventsPerRequest * 8));
        events.forEach(e -> e.put("messageId", "bench-0000000000000000"));
        String hostPort = target.getHostString() + ":" + target.getPort();
        List<byte[]> bodies = generator.batchBodies(events, eventsPerRequest);
        templates = new byte[bodies.size()][];
        idOffsets = new int[bodies.size()][];
        for (int i = 0; i < bodies.size(); i++) {
            templates[i] = BenchEvents.httpRequest("/v1/batch", hostPort, bodies.get(i));
            idOffsets[i] = offsetsOf(templates[i]);
            if (idOffsets[i].length != eventsPerRequest)
                throw new IllegalStateException("messageId placeholders not found");
        }
    }

    /**
     * Closed loop instead: {@code maxConnections} connections, each sending its next request as soon as the answer
     * came (latency from writing the request). The rate is ignored. Used for the maximum ("blast") step.
     */
    PacedLoad closedLoop() {
        closedLoop = true;
        return this;
    }

    /** Events answered with 200 so far (read by the progress sampler while the load runs). */
    long accepted() {
        return accepted.get();
    }

    double averageBodyBytes() {
        long sum = 0;
        for (byte[] t : templates) sum += t.length;
        return sum / (double) templates.length;
    }

    /** Sends on schedule until the window ends, then waits at most {@code drainNanos} for the outstanding answers. */
    Result run(Window window, long drainNanos) throws IOException {
        this.window = window;
        long start = System.nanoTime();
        long hardStop = window.end() + drainNanos;
        int busy = 0;
        try (Selector s = Selector.open()) {
            selector = s;
            ArrayDeque<Long> due = new ArrayDeque<>();
            long nextDue = start;
            while (true) {
                long now = System.nanoTime();
                if (now < window.end() && closedLoop) {
                    while (due.size() + busy < maxConnections) due.add(now);
                } else if (now < window.end()) {
                    for (; nextDue <= now && nextDue < window.end(); nextDue += intervalNanos) due.add(nextDue);
                }
                while (!due.isEmpty() && (!idle.isEmpty() || all.size() < maxConnections)) {
                    send(idle.isEmpty() ? connect() : idle.poll(), due.poll());
                    busy++;
                }
                if (now >= hardStop || (now >= window.end() && busy == 0)) break;
                long waitNanos = now >= window.end()
                        ? hardStop - now
                        : closedLoop ? Math.min(100_000_000L, window.end() - now) : Math.max(0, nextDue - now);
                selector.select(Math.max(1, Math.min(100, waitNanos / 1_000_000)));
                for (SelectionKey key : selector.selectedKeys()) {
                    if (handle((HttpLoad.Conn) key.attachment(), key)) busy--;
                }
                selector.selectedKeys().clear();
            }
            window.awaitSnapshot();
            return new Result(
                    accepted.get(), sentEvents, okInWindow, Map.copyOf(non200), errors, busy, all.size(), latency);
        } finally {
            for (HttpLoad.Conn c : all) close(c);
        }
    }

    /** Handles one ready connection; true when its request is finished (answered, or failed). */
    private boolean handle(HttpLoad.Conn c, SelectionKey key) throws IOException {
        try {
            if (key.isValid() && key.isWritable()) {
                c.channel.write(c.out);
                if (!c.out.hasRemaining()) key.interestOps(SelectionKey.OP_READ);
            }
            if (!key.isValid() || !key.isReadable()) return false;
            if (c.in.remaining() == 0)
                c.in = ByteBuffer.allocate(c.in.capacity() * 2).put(c.in.flip());
            if (c.channel.read(c.in) < 0) throw new IOException("connection closed by the server");
            int status = Responses.consume(c);
            if (status < 0) return false;
            long done = System.nanoTime();
            if (status == 200) accepted.addAndGet(eventsPerRequest);
            if (window.contains(done)) {
                if (status == 200) {
                    okInWindow++;
                    latency.record((done - c.sentAt) / 1_000);
                } else {
                    non200.merge(status, 1L, Long::sum);
                }
            }
            if (c.closeAfterResponse) {
                close(c);
                all.remove(c);
            } else {
                idle.add(c);
            }
        } catch (IOException e) {
            if (++errors > MAX_ERRORS)
                throw new IOException("more than " + MAX_ERRORS + " connection errors; last: " + e.getMessage(), e);
            close(c);
            all.remove(c);
        }
        return true;
    }

    private HttpLoad.Conn connect() throws IOException {
        HttpLoad.Conn c = new HttpLoad.Conn();
        c.channel = SocketChannel.open(target);
        c.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c.channel.configureBlocking(false);
        c.key = c.channel.register(selector, 0, c);
        c.out = ByteBuffer.allocate(maxTemplate());
        all.add(c);
        return c;
    }

    /** Copies the next template into the connection's buffer, gives its events fresh messageIds and writes it. */
    private void send(HttpLoad.Conn c, long dueAt) throws IOException {
        int t = (int) (requestNumber++ % templates.length);
        c.out.clear();
        c.out.put(templates[t]).flip();
        byte[] a = c.out.array();
        for (int offset : idOffsets[t]) {
            long id = nextEventId++;
            for (int i = 15; i >= 0; i--) {
                a[offset + i] = HEX[(int) (id & 0xF)];
                id >>>= 4;
            }
        }
        sentEvents += eventsPerRequest;
        c.sentAt = dueAt;
        c.in.clear();
        c.closeAfterResponse = false;
        c.channel.write(c.out);
        c.key.interestOps(c.out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    private int maxTemplate() {
        int max = 0;
        for (byte[] t : templates) max = Math.max(max, t.length);
        return max;
    }

    /** Offsets of the 16 placeholder digits after each {@code "messageId":"bench-} in a request. */
    private static int[] offsetsOf(byte[] request) {
        byte[] marker = MARKER.getBytes(StandardCharsets.US_ASCII);
        List<Integer> found = new ArrayList<>();
        outer:
        for (int i = 0; i + marker.length <= request.length; i++) {
            for (int j = 0; j < marker.length; j++) if (request[i + j] != marker[j]) continue outer;
            found.add(i + marker.length);
        }
        return found.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void close(HttpLoad.Conn c) {
        if (c.channel == null) return;
        try {
            c.channel.close();
        } catch (IOException ignored) {
            // gone either way
        }
        c.channel = null;
    }
}
