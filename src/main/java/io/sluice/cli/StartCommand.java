package io.sluice.cli;

import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "start",
        mixinStandardHelpOptions = true,
        description =
                "Standalone mode: every role in one process, embedding Kafka and/or PostgreSQL where the config says 'embedded'.")
final class StartCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        SluiceConfig loaded = config.load();
        Sluice sluice = Sluice.standalone(loaded);
        sluice.start();
        printEndpoints(sluice);
        return RunUntilStopped.run(sluice);
    }

    private static void printEndpoints(Sluice sluice) {
        SluiceConfig c = sluice.config();
        StringBuilder out = new StringBuilder("\nSluice is running (standalone).\n");
        out.append("  Collector URL:     ")
                .append(sluice.collectorUrl())
                .append("   (POST /v1/track, /v1/batch, ...)\n");
        out.append("  Console:           ").append(sluice.adminUrl()).append("/   (open in a browser)\n");
        out.append("  Admin URL:         ").append(sluice.adminUrl()).append("   (/health, /ready, /metrics)\n");
        out.append("  Kafka bootstrap:   ")
                .append(sluice.bootstrapServers())
                .append("   (topic ")
                .append(c.kafka().eventsTopic())
                .append(")\n");
        out.append("  PostgreSQL JDBC:   ")
                .append(sluice.jdbcUrl())
                .append("   (user ")
                .append(c.postgres().user())
                .append(")\n");
        c.sources()
                .forEach(s -> out.append("  Source '")
                        .append(s.id())
                        .append("' write key: ")
                        .append(s.writeKey())
                        .append('\n'));
        if (sluice.warehouseUrl() != null) {
            out.append("  Warehouse JDBC:    ")
                    .append(sluice.warehouseUrl())
                    .append("   (user ")
                    .append(c.postgres().user())
                    .append(")\n");
            String port = sluice.warehouseUrl().replaceAll(".*:(\\d+)/.*", "$1");
            out.append("  Query it:          psql -h 127.0.0.1 -p ")
                    .append(port)
                    .append(" -U ")
                    .append(c.postgres().user())
                    .append(" warehouse -c 'SELECT * FROM web.tracks'\n");
        }
        out.append("Press Ctrl-C to stop.\n");
        System.out.println(out);
    }
}
