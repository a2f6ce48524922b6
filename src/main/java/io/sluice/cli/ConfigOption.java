package io.sluice.cli;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option shared by every subcommand, with the same default lookup everywhere. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file (default: ./sluice.yaml if present, else built-in standalone defaults).")
    Path file;

    SluiceConfig load() {
        return ConfigLoader.fromEnvironment().load(file);
    }
}
