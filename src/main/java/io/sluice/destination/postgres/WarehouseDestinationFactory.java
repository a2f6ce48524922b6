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
    /** Columns a warehouse table may have before new names go to its overflow column (docs/warehouse.md). */
    static final int DEFAULT_COLUMN_BUDGET = 1_000;
    /** PostgreSQL allows 1,600 columns, dropped ones included: leave room for Sluice's own and for widening. */
    static final int MAX_COLUMN_BUDGET = 1_500;

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
        columnBudget(settings);
    }

    /** {@code columnBudget}: 20 to 1,500, default 1,000. */
    static int columnBudget(DestinationSettings settings) {
        Object value = settings.get("columnBudget");
        if (value == null) return DEFAULT_COLUMN_BUDGET;
        if (!(value instanceof Integer budget) || budget < 20 || budget > MAX_COLUMN_BUDGET) {
            throw new ConfigException(
                    key(settings, "columnBudget"),
                    "must be an integer from 20 to " + MAX_COLUMN_BUDGET + ", not '" + value + "'");
        }
        return budget;
    }

    @Override
    public Destination create(DestinationSettings settings, OwnInfrastructure own) {
        if (!SluiceConfig.EMBEDDED.equals(settings.string("url"))) return create(settings);
        OwnInfrastructure.Warehouse warehouse = own.warehouse().get();
        return new WarehouseDestination(
                settings.id(),
                warehouse.jdbcUrl(),
                warehouse.user(),
                "",
                POOL_SIZE,
                CONNECTION_TIMEOUT_MS,
                columnBudget(settings));
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
                CONNECTION_TIMEOUT_MS,
                columnBudget(settings));
    }

    private static String key(DestinationSettings settings, String name) {
        return "destination '" + settings.id() + "' " + name;
    }
}
