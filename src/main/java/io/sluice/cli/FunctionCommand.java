package io.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.function.FunctionTrial;
import io.sluice.function.MockResponses;
import io.sluice.function.TestRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice function test FILE EVENT.json}: tries a function on a sample event before it is deployed; its
 * {@code fetch} calls go to the sync's allowed services ({@code --sync}) or are answered from a mock file
 * ({@code --mock}).
 */
@Command(
        name = "function",
        mixinStandardHelpOptions = true,
        description = "Work with sync functions (JavaScript transformations).",
        subcommands = {FunctionCommand.Test.class})
final class FunctionCommand {

    @Command(
            name = "test",
            mixinStandardHelpOptions = true,
            description =
                    "Runs FILE's transform(event, context) on the event in EVENT.json, sandboxed and time-bounded as in delivery, "
                            + "and prints what it logged and returned, or its error with the line number. Exit code 1 when the function fails.")
    static final class Test implements Callable<Integer> {
        private static final ObjectMapper JSON = new ObjectMapper();

        @Mixin
        ConfigOption config;

        @Parameters(index = "0", paramLabel = "FILE", description = "The function's .js file.")
        Path file;

        @Parameters(index = "1", paramLabel = "EVENT.json", description = "A sample event (one JSON object).")
        Path eventFile;

        @Option(
                names = "--sync",
                paramLabel = "ID",
                description =
                        "Run as this sync of the configuration: its id, destination and settings become the context.")
        String sync;

        @Option(
                names = "--mock",
                paramLabel = "MOCKS",
                description = "Answer the function's fetch calls from this JSON or YAML file instead of the network: a"
                        + " list of {method, url | urlPrefix | urlPattern, status, headers, body, delay, fail}; the"
                        + " first matching entry answers, an unmatched call fails naming its URL. Without it, --sync"
                        + " calls the sync's allowed services for real, under its fetch limits.")
        Path mock;

        @Option(
                names = "--json",
                description = "Print the result as the admin API returns it: {\"output\", \"logs\", \"error\"}.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            SluiceConfig loaded = config.load();
            String source = Files.readString(file);
            JsonNode event = JSON.readTree(eventFile.toFile());
            if (!(event instanceof ObjectNode sample)) {
                System.err.println(eventFile + " must hold one JSON object (an event)");
                return 2;
            }
            MockResponses mocks = null;
            if (mock != null) {
                try {
                    mocks = MockResponses.load(mock);
                } catch (MockResponses.BadMockFile e) {
                    System.err.println(e.getMessage());
                    return 2;
                }
            }
            String syncId = "test";
            String destinationId = "test";
            JsonNode settings = null;
            SluiceConfig.FetchSettings fetch = SluiceConfig.FetchSettings.NONE;
            if (sync != null) {
                SyncSettings chosen = loaded.syncs().stream()
                        .filter(s -> s.id().equals(sync))
                        .findFirst()
                        .orElse(null);
                if (chosen == null) {
                    System.err.println("The configuration (" + loaded.origin() + ") has no sync '" + sync + "'");
                    return 2;
                }
                syncId = chosen.id();
                destinationId = chosen.destination();
                settings = chosen.settings() == null ? null : chosen.settings().tree();
                fetch = chosen.fetch(); // the sync's allowed services are called for real, under its limits
                if (mocks != null && fetch.allowHosts().isEmpty())
                    System.err.println("note: sync " + syncId + " has no fetch.allowHosts, so in the pipeline its"
                            + " fetch calls are refused; here " + mock + " answers them");
            }
            TestRun run = FunctionTrial.test(
                    source,
                    sample,
                    syncId,
                    destinationId,
                    settings,
                    fetch,
                    loaded.functions().timeout(),
                    new FunctionTrial.FetchTools(SluiceCli.toolRegistry(), SluiceCli.CLOCK),
                    mocks);
            if (json) {
                System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(run.toJson()));
            } else {
                run.logs().forEach(line -> System.out.println("log: " + line));
                if (run.error() != null) {
                    System.out.println("error: " + run.error());
                } else if (run.output().isEmpty()) {
                    System.out.println("dropped: transform returned null or undefined");
                } else {
                    System.out.println(
                            run.output().size() == 1
                                    ? "output (1 event):"
                                    : "output (" + run.output().size() + " events):");
                    System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(run.output()));
                }
            }
            return run.error() == null ? 0 : 1;
        }
    }
}
