package io.sluice.destination.postgres;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationFactory;
import io.sluice.destination.OwnInfrastructure;

/**
 * Type {@code postgres}: a PostgreSQL warehouse in Segment's schema. Keys: {@code url} (a jdbc:postgresql:// URL;
 * 'embedded' means the database 'warehouse' on the embedded PostgreSQL), {@code user}, {@code password}.
 */
public final class WarehouseDestinationFactory implements DestinationFactory {
    /** Connections per warehouse destination: one per concurrently delivered batch is plenty. */
    static final int POOL_SIZE = 4;
    /** How long a delivery waits for a warehouse connection before failing (retriably). */
    static final long CONNECTION_TIMEOUT_MS = 10_000;

    @Override
    public void validate(DestinationSettings settings) {
        String url = settings.string("url");
        if (url == null || !(url.startsWith("jdbc:postgresql:") || url.equals(SluiceConfig.EMBEDDED))) {
            throw new ConfigException(
                    key(settings, "url"), "must be a jdbc:postgresql:// URL or 'embedded', not '" + url + "'");
        }
        if (settings.string("user") == null || settings.string("user").isBlank()) {
            throw new ConfigException(key(settings, "user"), "is required");
        }
    }

    @Override
    public Destination create(DestinationSettings settings, OwnInfrastructure own) {
        if (!SluiceConfig.EMBEDDED.equals(settings.string("url"))) return create(settings);
        OwnInfrastructure.Warehouse warehouse = own.warehouse().get();
        return new WarehouseDestination(
                settings.id(), warehouse.jdbcUrl(), warehouse.user(), "", POOL_SIZE, CONNECTION_TIMEOUT_MS);
    }

    @Override
    public Destination create(DestinationSettings settings) {
        String url = settings.string("url");
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new ConfigException(
                    key(settings, "url"), "'" + url + "' needs a deployment with an embedded PostgreSQL");
        }
        String password = settings.string("password");
        return new WarehouseDestination(
                settings.id(),
                url,
                settings.string("user"),
                password == null ? "" : password,
                POOL_SIZE,
                CONNECTION_TIMEOUT_MS);
    }

    private static String key(DestinationSettings settings, String name) {
        return "destination '" + settings.id() + "' " + name;
    }
}
