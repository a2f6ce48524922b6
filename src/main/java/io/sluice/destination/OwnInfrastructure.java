package io.sluice.destination;

import io.sluice.kafka.KafkaClients;
import java.util.function.Supplier;

/**
 * What {@code embedded} means in a destination's settings for this deployment: Sluice's own Kafka cluster, and the
 * database {@code warehouse} on its embedded PostgreSQL. Handed to {@link DestinationFactory#create} (in its {@link DestinationContext}) so that the
 * validated settings are used as they are, never rewritten.
 *
 * @param kafka this process's Kafka cluster (its address and {@code kafka.clientProperties}), or null
 * @param warehouse creates (once) and returns the embedded warehouse database; throws when there is none
 */
public record OwnInfrastructure(KafkaClients kafka, Supplier<Warehouse> warehouse) {
    /** A JDBC endpoint with its user (trust authentication: no password). */
    public record Warehouse(String jdbcUrl, String user) {}

    /** For callers without embedded infrastructure (tests of a single destination). */
    public static final OwnInfrastructure NONE = new OwnInfrastructure(null, () -> {
        throw new IllegalStateException("this process has no embedded PostgreSQL for a warehouse url of 'embedded'");
    });
}
