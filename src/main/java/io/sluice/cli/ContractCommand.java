package io.sluice.cli;

import io.sluice.contract.Contract;
import io.sluice.contract.ContractException;
import io.sluice.contract.ContractReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Tracking-plan tools: {@code contract check FILE} validates a contract file the way the collector will. */
@Command(
        name = "contract",
        mixinStandardHelpOptions = true,
        description = "Work with tracking-plan contracts (see docs/contracts.md).",
        subcommands = {ContractCommand.Check.class})
final class ContractCommand {

    @Command(
            name = "check",
            mixinStandardHelpOptions = true,
            description =
                    "Validates a contract file (shape and JSON Schemas); prints each problem with its line. Exit 0 when valid, 1 when not.")
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "Contract file (YAML or JSON).")
        Path file;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                Contract contract = new ContractReader().readFile("check", file);
                out.printf(
                        "%s: valid contract (unplannedEvents: %s, violations: %s, formats: %s, %d planned event(s)%s%s)%n",
                        file,
                        lower(contract.unplanned()),
                        lower(contract.onViolation()),
                        contract.assertFormats() ? "assert" : "annotate",
                        contract.plannedEvents().size(),
                        contract.checksIdentify() ? ", identify traits" : "",
                        contract.checksGroup() ? ", group traits" : "");
                out.flush();
                return 0;
            } catch (ContractException e) {
                for (ContractException.Problem problem : e.problems()) {
                    err.println(file + (problem.line() > 0 ? ":" + problem.line() : "") + ": "
                            + (problem.where().isEmpty() ? "" : problem.where() + ": ") + problem.message());
                }
                err.printf(
                        "%s: %d problem(s); the contract is not valid%n",
                        file, e.problems().size());
                err.flush();
                return 1;
            }
        }

        private static String lower(Enum<?> value) {
            return value.name().toLowerCase(Locale.ROOT);
        }
    }
}
