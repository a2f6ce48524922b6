package io.sluice.destination;

import io.sluice.config.SluiceConfig.DestinationSettings;

/**
 * Creates one type of destination from its typed settings record; registered in the composition root's registry.
 * {@link #validate} runs in the configuration step of every command (so {@code sluice config} refuses what
 * {@code sluice start} would); {@link #create} gets the same, already validated settings.
 */
public interface DestinationFactory<S extends DestinationSettings> {

    /** Checks what only this type can judge, without any I/O; throws {@link io.sluice.config.ConfigException} naming the key. */
    default void validate(S settings) {}

    /** Creates the destination (not yet opened); {@code embedded} in the settings means {@code context.own()}. */
    Destination create(S settings, DestinationContext context);
}
