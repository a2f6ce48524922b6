package io.sluice.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Closed-loop HTTP/1.1 load on ONE thread: a Selector drives N keep-alive connections, each with exactly one
 * request outstanding; the next request goes out as soon as the previous response is complete. Requests are
 * pre-encoded (headers + body) in direct buffers, so sending one is a single write without copying, and responses
 * are parsed at the byte level (status line, Content-Length or chunked, Connection: close). This keeps the load
 * generator's CPU share small, which matters when client, server and broker share 2 cores.
 */
final class HttpLoad {
    private static final int MAX_ERRORS = 1_000;
    private static final int MAX_RESPONSE = 1 << 20;

    /** What one run measured; counts and latencies cover only responses completed inside the measured window. */
    record Result(long ok, Map<Integer, Long> non200, long errors, long unfinished, LatencyHistogram latencyMicros) {}

    private final InetSocketAddress target;
    private final ByteBuffer[] requests;
    private final int connections;

    private Window window;
    private long ok;
    private long errors;
    private final Map<Integer, Long> non200 = new TreeMap<>();
    private final LatencyHistogram latency = new LatencyHistogram();
    private Selector selector;
    private int next;

    HttpLoad(InetSocketAddress target, List<byte[]> encodedRequests, int connections) {
        this.target = target;
        this.connections = connections;
        this.requests = new ByteBuffer[encodedRequests.size()];
        for (int i = 0; i < requests.length; i++) {
            byte[] r = encodedRequests.get(i);
            requests[i] = ByteBuffer.allocateDirect(r.length).put(r).flip().asReadOnlyBuffer();
        }
    }

    /** Loads until the window ends (warming up before it), then waits at most {@code drainNanos} for responses. */
    Result run(Window window, long drainNanos) throws IOException {
        this.window = window;
        long hardStop = window.end() + drainNanos;
        List<Conn> all = new ArrayList<>(connections);
        int active = 0;
        try (Selector s = Selector.open()) {
            selector = s;
            for (int i = 0; i < connections; i++) {
                Conn c = new Conn();
                all.add(c);
                connect(c);
                send(c);
                active++;
            }
            while (active > 0) {
                long now = System.nanoTime();
                if (now >= hardStop) break;
                selector.select(Math.max(1, Math.min(100, (hardStop - now) / 1_000_000)));
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!handle((Conn) key.attachment(), key)) active--;
                }
                selector.selectedKeys().clear();
            }
            window.awaitSnapshot();
        } finally {
            for (Conn c : all) close(c);
        }
        return new Result(ok, Map.copyOf(non200), errors, active, latency);
    }

    /** Handles one ready connection; false when it has finished (the run is over and it is idle). */
    private boolean handle(Conn c, SelectionKey key) throws IOException {
        try {
            if (key.isValid() && key.isWritable()) {
                c.channel.write(c.out);
                if (!c.out.hasRemaining()) key.interestOps(SelectionKey.OP_READ);
            }
            if (!key.isValid() || !key.isReadable()) return true;
            if (c.in.remaining() == 0) {
                if (c.in.capacity() >= MAX_RESPONSE)
                    throw new IOException("response larger than " + MAX_RESPONSE + " bytes");
                c.in = ByteBuffer.allocate(c.in.capacity() * 2).put(c.in.flip());
            }
            if (c.channel.read(c.in) < 0) throw new IOException("connection closed by the server");
            int status = Responses.consume(c);
            if (status < 0) return true;
            long done = System.nanoTime();
            if (window.contains(done)) {
                if (status == 200) {
                    ok++;
                    latency.record((done - c.sentAt) / 1_000);
                } else {
                    non200.merge(status, 1L, Long::sum);
                }
            }
            if (c.closeAfterResponse) {
                close(c);
                if (done < window.end()) connect(c);
            }
        } catch (IOException e) {
            if (++errors > MAX_ERRORS)
                throw new IOException("more than " + MAX_ERRORS + " connection errors; last: " + e.getMessage(), e);
            close(c);
            if (System.nanoTime() >= window.end()) return false;
            connect(c);
        }
        if (System.nanoTime() >= window.end()) {
            close(c);
            return false;
        }
        send(c);
        return true;
    }

    private void connect(Conn c) throws IOException {
        c.channel = SocketChannel.open(target);
        c.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c.channel.configureBlocking(false);
        c.key = c.channel.register(selector, 0, c);
        c.in.clear();
        c.closeAfterResponse = false;
    }

    private void send(Conn c) throws IOException {
        c.out = requests[next++ % requests.length].duplicate();
        c.sentAt = System.nanoTime();
        c.channel.write(c.out);
        c.key.interestOps(c.out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    private static void close(Conn c) {
        if (c.channel == null) return;
        try {
            c.channel.close();
        } catch (IOException ignored) {
            // nothing to do: the connection is gone either way
        }
        c.channel = null;
    }

    /** One keep-alive connection and its in-flight request. */
    static final class Conn {
        SocketChannel channel;
        SelectionKey key;
        ByteBuffer out;
        ByteBuffer in = ByteBuffer.allocate(4096);
        long sentAt;
        boolean closeAfterResponse;
    }
}
