package io.sluice.cli;

import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Configuration;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option shared by every subcommand, with the same default lookup everywhere. */
final class ConfigOption {
    @Option(
            names = {"-c", "--config"},
            paramLabel = "FILE",
            description =
                    "YAML configuration file (default: ./sluice.yaml if present, else built-in standalone defaults).")
    Path file;

    /** The one configuration step, the same for every command: see {@link Configuration}. */
    SluiceConfig load() {
        return Configuration.load(file);
    }
}
