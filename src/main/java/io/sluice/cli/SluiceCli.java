package io.sluice.cli;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigException;
import java.time.Clock;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code sluice} command. Every subcommand takes {@code --config FILE}. */
@Command(
        name = "sluice",
        mixinStandardHelpOptions = true,
        version = "sluice 0.1.0",
        description =
                "Self-hostable customer event pipeline: Segment-compatible collector -> Kafka -> PostgreSQL virtual queue -> destinations.",
        subcommands = {
            StartCommand.class,
            CollectorCommand.class,
            PlannerCommand.class,
            WorkerCommand.class,
            DbCommand.class,
            DlqCommand.class,
            SyncCommand.class,
            PrivacyCommand.class,
            ConfigCommand.class,
            FunctionCommand.class,
            ContractCommand.class,
            CommandLine.HelpCommand.class
        })
public final class SluiceCli {
    /**
     * The one clock of the commands that run without a {@link io.sluice.runtime.Sluice} of their own ({@code db},
     * {@code dlq}) and the one handed to those that build one: the command line is their composition root.
     */
    static final Clock CLOCK = Clock.systemUTC();

    /** Meters of one-shot tools (a replay's functions): nothing exports them, so a simple registry is enough. */
    static MeterRegistry toolRegistry() {
        return new SimpleMeterRegistry();
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new SluiceCli());
        for (CommandExtension extension : ServiceLoader.load(CommandExtension.class)) {
            cli.addSubcommand(extension);
        }
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException) {
                commandLine.getErr().println(e.getMessage());
                return 2;
            }
            commandLine.getErr().println("sluice: " + e.getMessage());
            e.printStackTrace(commandLine.getErr());
            return 1;
        });
        return cli.execute(args);
    }
}
