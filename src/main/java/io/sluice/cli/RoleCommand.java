package io.sluice.cli;

import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import java.util.EnumSet;
import java.util.Locale;

/** Runs some roles in this process against the external Kafka and PostgreSQL of the config, until stopped. */
final class RoleCommand {
    private RoleCommand() {}

    static int run(ConfigOption config, Sluice.Role role) throws InterruptedException {
        SluiceConfig loaded = config.load();
        Sluice sluice = new Sluice(loaded, EnumSet.of(role), false, SluiceCli.CLOCK);
        sluice.start();
        String name = role.name().toLowerCase(Locale.ROOT);
        System.out.println(
                "Sluice " + name + " is running" + (sluice.collectorUrl() != null ? ": " + sluice.collectorUrl() : "")
                        + " (admin " + sluice.adminUrl() + ")");
        return RunUntilStopped.run(sluice);
    }
}
