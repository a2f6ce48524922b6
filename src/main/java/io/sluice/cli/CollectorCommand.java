package io.sluice.cli;

import io.sluice.runtime.Sluice;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "collector",
        mixinStandardHelpOptions = true,
        description =
                "Runs only the collector against the external Kafka named in the config (scale out behind a load balancer).")
final class CollectorCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        return RoleCommand.run(config, Sluice.Role.COLLECTOR);
    }
}
