package io.sluice.cli;

import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import java.time.Clock;
import java.util.EnumSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "collector", mixinStandardHelpOptions = true,
        description = "Runs only the collector against the external Kafka named in the config (scale out behind a load balancer).")
final class CollectorCommand implements Callable<Integer> {
    @Mixin ConfigOption config;

    @Override
    public Integer call() throws Exception {
        SluiceConfig loaded = config.load();
        Sluice sluice = new Sluice(loaded, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC());
        sluice.start();
        System.out.println("Sluice collector is running: " + sluice.collectorUrl() + " (admin " + sluice.adminUrl() + ")");
        return RunUntilStopped.run(sluice);
    }
}
