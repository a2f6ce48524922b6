package io.sluice.cli;

import io.sluice.runtime.Sluice;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "planner",
        mixinStandardHelpOptions = true,
        description =
                "Runs only the planner: consumes the events topic and records batches in the queue database. Run several for fail-over and scale.")
final class PlannerCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        return RoleCommand.run(config, Sluice.Role.PLANNER);
    }
}
