package io.sluice.cli;

import io.sluice.runtime.Sluice;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "worker",
        mixinStandardHelpOptions = true,
        description =
                "Runs only a worker: claims batches from the queue database, reads them back from Kafka and delivers them. Scale out with more processes.")
final class WorkerCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        return RoleCommand.run(config, Sluice.Role.WORKER);
    }
}
