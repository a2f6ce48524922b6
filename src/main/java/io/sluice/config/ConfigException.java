package io.sluice.config;

/** A configuration problem that stops startup. The message names the key and what is wrong with it. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String key, String problem) {
        super("Invalid configuration: " + key + ": " + problem);
    }

    public ConfigException(String message) {
        super("Invalid configuration: " + message);
    }
}
