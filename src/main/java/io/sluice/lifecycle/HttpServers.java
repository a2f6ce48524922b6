package io.sluice.lifecycle;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import java.util.function.Consumer;

/**
 * How Sluice's HTTP servers are set up: Javalin on Jetty 12, a virtual thread per request, no banner; request
 * bodies must keep arriving at a minimum rate (Jetty's minimum request data rate), or the request fails and the
 * connection is closed. (Each server installs io.sluice.http.JsonErrors in its routes, so every error is JSON.)
 */
public final class HttpServers {
    /** Bytes per second, measured from a body's first byte; far below any real client's uplink. */
    public static final long DEFAULT_MIN_BODY_RATE = 1024;

    private HttpServers() {}

    /** A server on {@code host:port} (port 0: any free port) with the given routes; not started. */
    public static Javalin create(String host, int port, Consumer<JavalinConfig> routes) {
        return create(host, port, DEFAULT_MIN_BODY_RATE, routes);
    }

    /** @param minBodyRate bytes per second a request body must at least arrive at (0: no minimum) */
    public static Javalin create(String host, int port, long minBodyRate, Consumer<JavalinConfig> routes) {
        return Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.concurrency.useVirtualThreads = true;
            config.router.ignoreTrailingSlashes = true;
            config.jetty.host = host;
            config.jetty.port = port;
            config.jetty.modifyHttpConfiguration(http -> http.setMinRequestDataRate(minBodyRate));
            routes.accept(config);
        });
    }
}
