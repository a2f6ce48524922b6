package io.sluice.destination;

import io.sluice.config.SluiceConfig.DestinationSettings;

/**
 * Creates one type of destination; registered by type name in the composition root's registry. {@link #validate}
 * runs in the configuration step of every command (so {@code sluice config} refuses what {@code sluice start}
 * would); {@link #create} gets the same, already validated settings.
 */
public interface DestinationFactory {

    /** Checks the settings without any I/O; throws {@link io.sluice.config.ConfigException} naming the key. */
    default void validate(DestinationSettings settings) {}

    /** Creates the destination; {@code embedded} in the settings means {@code own}. */
    default Destination create(DestinationSettings settings, OwnInfrastructure own) {
        return create(settings);
    }

    Destination create(DestinationSettings settings);
}
