package io.sluice.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A switchable TCP proxy on 127.0.0.1:&lt;ephemeral&gt; that plays a database cluster's stable endpoint (like a
 * virtual IP or PgBouncer in front of a primary): clients keep one URL while {@link #switchTo} moves new
 * connections to another instance, and optionally drops the open ones so clients see the failover as connection
 * errors, or {@link #blackHole()}s it (bytes swallowed, sockets left open). Blocking sockets with one virtual thread
 * per direction: no selectors, no busy loops.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Map<Integer, AtomicInteger> connections = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicInteger> failedConnections = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicLong> bytesTo = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicLong> bytesFrom = new ConcurrentHashMap<>();
    private final AtomicInteger drops = new AtomicInteger();
    private volatile int target;
    private volatile boolean closed;
    private volatile boolean blackHoled;
    private final Set<Link> heldWhenHoled = ConcurrentHashMap.newKeySet();

    public TcpProxy(int targetPort) {
        this.target = targetPort;
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("TcpProxy could not listen", e);
        }
        Thread.ofVirtual().name("tcp-proxy-accept-" + server.getLocalPort()).start(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    public int target() {
        return target;
    }

    /** New connections go to {@code targetPort}; open ones stay where they are. */
    public void switchTo(int targetPort) {
        switchTo(targetPort, false);
    }

    /** New connections go to {@code targetPort}; with {@code dropExisting} the open ones are cut, as in a failover. */
    public void switchTo(int targetPort, boolean dropExisting) {
        target = targetPort;
        if (dropExisting) dropAll();
    }

    /** Closes every open connection (both sides), so clients see I/O errors on their next use. */
    public void dropAll() {
        drops.incrementAndGet(); // connections still being set up see this and close themselves
        for (Link link : links) link.close();
    }

    /**
     * Black-holes the endpoint, as a dead route or a frozen host does: every byte of every open connection and of
     * every connection accepted from now on is swallowed, and no socket is closed, so clients see neither an answer
     * nor an error, only silence. {@link #restore()} forwards new connections again; the swallowed ones stay dead
     * (their streams lost bytes) until their clients give up on them.
     */
    public void blackHole() {
        blackHoled = true;
        heldWhenHoled.clear();
        for (Link link : links) {
            link.holed = true;
            heldWhenHoled.add(link);
        }
    }

    /** Connections that were open when {@link #blackHole()} began and that their clients have not given up yet. */
    public int openSinceBlackHole() {
        return (int) heldWhenHoled.stream().filter(links::contains).count();
    }

    /** Ends {@link #blackHole()} for connections accepted from now on. */
    public void restore() {
        blackHoled = false;
    }

    /** Connections swallowing their bytes right now (open, black-holed). */
    public int blackHoledConnections() {
        return (int) links.stream().filter(l -> l.holed).count();
    }

    /** Connections successfully relayed to {@code targetPort} so far (open or finished). */
    public int connectionsTo(int targetPort) {
        return count(connections, targetPort);
    }

    /** Connections accepted while {@code targetPort} was the target but that could not reach it (it was down). */
    public int failedConnectionsTo(int targetPort) {
        return count(failedConnections, targetPort);
    }

    /** Bytes relayed from clients to {@code targetPort}. */
    public long bytesTo(int targetPort) {
        AtomicLong n = bytesTo.get(targetPort);
        return n == null ? 0 : n.get();
    }

    /** Bytes relayed from {@code targetPort} back to clients. */
    public long bytesFrom(int targetPort) {
        AtomicLong n = bytesFrom.get(targetPort);
        return n == null ? 0 : n.get();
    }

    /** Connections open right now. */
    public int openConnections() {
        return links.size();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        dropAll();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) return;
                pause(); // e.g. out of file descriptors: do not spin, keep serving once it clears
                continue;
            }
            int dropsAtAccept = drops.get(); // before target: switchTo writes target, then dropAll counts a drop
            int port = target;
            Thread.ofVirtual().name("tcp-proxy-connect").start(() -> open(client, port, dropsAtAccept));
        }
    }

    /** Connects to the target chosen at accept time; if it is down the client is closed at once (a refused connect). */
    private void open(Socket client, int port, int dropsAtAccept) {
        Socket upstream = new Socket();
        try {
            upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            client.setTcpNoDelay(true); // relay PostgreSQL's small request/response messages without Nagle delay
            upstream.setTcpNoDelay(true);
        } catch (IOException e) {
            failedConnections.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
            closeQuietly(upstream);
            closeQuietly(client);
            return;
        }
        Link link = new Link(client, upstream);
        link.holed = blackHoled;
        links.add(link);
        connections.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
        if (closed || drops.get() != dropsAtAccept) {
            link.close(); // close()/dropAll() raced with this connect: it was accepted before the cut
            return;
        }
        AtomicLong up = bytesTo.computeIfAbsent(port, p -> new AtomicLong());
        AtomicLong down = bytesFrom.computeIfAbsent(port, p -> new AtomicLong());
        Thread.ofVirtual().name("tcp-proxy-up-" + port).start(() -> pump(link, client, upstream, up));
        Thread.ofVirtual().name("tcp-proxy-down-" + port).start(() -> pump(link, upstream, client, down));
    }

    /** Copies one direction until EOF or error, then closes the whole link: either side closing ends both. */
    private void pump(Link link, Socket from, Socket to, AtomicLong bytes) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (link.holed) continue; // swallowed: the socket stays open, nothing arrives
                out.write(buffer, 0, n);
                bytes.addAndGet(n);
            }
        } catch (IOException ignored) {
            // reset, or closed by dropAll/the other direction: the link is finished either way
        } finally {
            link.close();
        }
    }

    private final class Link {
        private final Socket client;
        private final Socket upstream;
        private final AtomicBoolean closed = new AtomicBoolean();
        volatile boolean holed;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void close() {
            if (!closed.compareAndSet(false, true)) return;
            links.remove(this);
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private static int count(Map<Integer, AtomicInteger> counts, int port) {
        AtomicInteger n = counts.get(port);
        return n == null ? 0 : n.get();
    }

    private static void pause() {
        try {
            Thread.sleep(50); // wall clock: a back-off after a failed accept, not a wait for a condition
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
