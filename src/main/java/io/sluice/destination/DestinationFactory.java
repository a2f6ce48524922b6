package io.sluice.destination;

import io.sluice.config.SluiceConfig.DestinationSettings;

/** Creates one type of destination; registered by type name in {@link DestinationRegistry}. */
public interface DestinationFactory {

    /** Checks the settings without any I/O; throws {@link io.sluice.config.ConfigException} naming the key. */
    default void validate(DestinationSettings settings) {}

    Destination create(DestinationSettings settings);
}
