package io.sluice.admin;

import io.javalin.config.JavalinConfig;

/** A group of {@code /admin/...} routes registered on the admin server; {@link AdminAuth} guards them all. */
public interface AdminRoutes {
    void register(JavalinConfig config);
}
