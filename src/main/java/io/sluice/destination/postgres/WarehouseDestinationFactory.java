package io.sluice.destination.postgres;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.destination.DestinationFactory;
import io.sluice.destination.OwnInfrastructure;

/**
 * Type {@code postgres}: a PostgreSQL warehouse in Segment's schema. Keys: {@code url} (a jdbc:postgresql:// URL;
 * 'embedded' means the database 'warehouse' on the embedded PostgreSQL), {@code user}, {@code password}.
 */
public final class WarehouseDestinationFactory implements DestinationFactory<DestinationSettings.Warehouse> {
    /** Connections per warehouse destination: one per concurrently delivered batch is plenty. */
    static final int POOL_SIZE = 4;
    /** How long a delivery waits for a warehouse connection before failing (retriably). */
    static final long CONNECTION_TIMEOUT_MS = 10_000;
    /** PostgreSQL allows 1,600 columns, dropped ones included: leave room for Sluice's own and for widening. */
    static final int MAX_COLUMN_BUDGET = 1_500;

    @Override
    public void validate(DestinationSettings.Warehouse settings) {
        String url = settings.url();
        if (!(url.startsWith("jdbc:postgresql:") || url.equals(SluiceConfig.EMBEDDED))) {
            throw new ConfigException(
                    key(settings, "url"), "must be a jdbc:postgresql:// URL or 'embedded', not '" + url + "'");
        }
        if (settings.user().isBlank()) throw new ConfigException(key(settings, "user"), "is required");
        int budget = settings.columnBudget();
        if (budget < 20 || budget > MAX_COLUMN_BUDGET) {
            throw new ConfigException(
                    key(settings, "columnBudget"),
                    "must be an integer from 20 to " + MAX_COLUMN_BUDGET + ", not '" + budget + "'");
        }
    }

    @Override
    public Destination create(DestinationSettings.Warehouse settings, DestinationContext context) {
        if (SluiceConfig.EMBEDDED.equals(settings.url())) {
            OwnInfrastructure.Warehouse warehouse = context.own().warehouse().get();
            return new WarehouseDestination(
                    settings.id(),
                    warehouse.jdbcUrl(),
                    warehouse.user(),
                    "",
                    POOL_SIZE,
                    CONNECTION_TIMEOUT_MS,
                    settings.columnBudget(),
                    context.clock());
        }
        return new WarehouseDestination(
                settings.id(),
                settings.url(),
                settings.user(),
                settings.password(),
                POOL_SIZE,
                CONNECTION_TIMEOUT_MS,
                settings.columnBudget(),
                context.clock());
    }

    private static String key(DestinationSettings.Warehouse settings, String name) {
        return "destination '" + settings.id() + "' " + name;
    }
}
