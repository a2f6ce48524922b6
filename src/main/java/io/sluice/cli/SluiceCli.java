package io.sluice.cli;

import io.sluice.config.ConfigException;
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
            ConfigCommand.class,
            FunctionCommand.class,
            ContractCommand.class,
            CommandLine.HelpCommand.class
        })
public final class SluiceCli {

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
