package io.sluice.lifecycle;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import java.util.function.Consumer;

/** How Sluice's HTTP servers are set up: Javalin on Jetty 12, a virtual thread per request, no banner. */
public final class HttpServers {
    private HttpServers() {}

    /** A server on {@code host:port} (port 0: any free port) with the given routes; not started. */
    public static Javalin create(String host, int port, Consumer<JavalinConfig> routes) {
        return Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.concurrency.useVirtualThreads = true;
            config.router.ignoreTrailingSlashes = true;
            config.jetty.host = host;
            config.jetty.port = port;
            routes.accept(config);
        });
    }
}
