package io.sluice.cli;

import io.sluice.config.ConfigSchema;
import io.sluice.config.SluiceConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "config",
        mixinStandardHelpOptions = true,
        description =
                "Validates the configuration and prints its effective values (secrets redacted), or every key with --keys.")
final class ConfigCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Option(names = "--keys", description = "List every configuration key with its type, default and meaning.")
    boolean keys;

    @Override
    public Integer call() {
        if (keys) {
            System.out.print(ConfigSchema.describeKeys());
            return 0;
        }
        SluiceConfig loaded = config.load();
        System.out.println("Configuration from " + loaded.origin() + " is valid:");
        for (String entry : loaded.effective().split(", ")) System.out.println("  " + entry);
        return 0;
    }
}
