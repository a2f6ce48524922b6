package io.sluice.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The standalone configuration the pipeline bench starts Sluice with: one source, one sync into the warehouse. */
final class PipelineYaml {
    private PipelineYaml() {}

    /** The database name of a jdbc:postgresql:// URL. */
    static String databaseOf(String jdbcUrl) {
        String path = jdbcUrl.substring(jdbcUrl.indexOf("//") + 2);
        path = path.substring(path.indexOf('/') + 1);
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    /** Batch and worker settings as given on the command line; null leaves Sluice's default. */
    static String of(
            PipelineRun.Options o, Path dataDir, String warehouseUrl, String warehouseUser, String warehousePassword) {
        return """
                dataDir: %s
                kafka:
                  bootstrapServers: embedded
                  embeddedPort: 0
                  partitions: %d
                postgres:
                  url: embedded
                  embeddedPort: 0
                  user: %s
                collector:
                  host: 127.0.0.1
                  port: 0
                admin:
                  host: 127.0.0.1
                  port: 0
                sources:
                  - id: %s
                    writeKey: %s
                destinations:
                  - id: warehouse
                    type: postgres
                    %s
                syncs:
                  - id: web-to-warehouse
                    source: %s
                    destination: warehouse
                    batch: {%s}
                worker: {%s}
                """.formatted(
                        dataDir,
                        o.partitions(),
                        PipelineRun.USER,
                        BenchEvents.SOURCE_ID,
                        BenchEvents.WRITE_KEY,
                        warehouseUrl == null
                                ? "url: embedded"
                                : "url: \"" + warehouseUrl + "\"\n    user: " + warehouseUser + "\n    password: \""
                                        + warehousePassword + "\"",
                        BenchEvents.SOURCE_ID,
                        entries("maxEvents", o.maxEvents(), "maxBytes", o.maxBytes(), "maxAge", o.maxAge()),
                        entries("concurrency", o.workerConcurrency(), "pollInterval", o.pollInterval()));
    }

    /** A YAML flow mapping's entries for the values given (null: not set, Sluice's default applies). */
    private static String entries(Object... keysAndValues) {
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] != null) entries.add(keysAndValues[i] + ": " + keysAndValues[i + 1]);
        }
        return String.join(", ", entries);
    }
}
