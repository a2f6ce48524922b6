package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sluice contract check FILE}: exit 0 for a valid contract, else every problem with its line number. */
class ContractCommandTest {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        CommandLine cli = new CommandLine(new SluiceCli());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void aValidContractExitsZero(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("web.yaml");
        Files.writeString(file, """
                unplannedEvents: block
                violations: omit
                events:
                  "Order Completed":
                    properties: {type: object, required: [total], properties: {total: {type: number}}}
                  "Signed Up": {}
                identify:
                  traits: {type: object, properties: {email: {type: string, format: email}}}
                """);
        assertThat(run("contract", "check", file.toString())).isZero();
        assertThat(out.toString())
                .isEqualTo(file + ": valid contract (unplannedEvents: block, violations: omit, formats: annotate, "
                        + "2 planned event(s), identify traits)" + System.lineSeparator());
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void aBrokenSchemaIsReportedWithItsLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("web.yaml");
        Files.writeString(file, """
                violations: block
                events:
                  "Order Completed":
                    properties:
                      type: object
                      properties:
                        total:
                          type: numbr
                group:
                  traits: {required: plan}
                """);
        assertThat(run("contract", "check", file.toString())).isEqualTo(1);
        assertThat(err.toString())
                .contains(
                        file
                                + ":8: events.\"Order Completed\".properties.properties.total.type: does not have a value in the enumeration",
                        file + ":10: group.traits.required: string found, array expected",
                        file + ": 2 problem(s); the contract is not valid");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void invalidYamlIsReportedWithItsLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("web.yaml");
        Files.writeString(file, "violations: block\nevents:\n  E: {properties: {type: object}\n  F: {}\n");
        assertThat(run("contract", "check", file.toString())).isEqualTo(1);
        assertThat(err.toString()).containsPattern(Pattern.quote(file.toString()) + ":[345]: not valid YAML: ");
        assertThat(run("contract", "check", dir.resolve("missing.yaml").toString()))
                .isEqualTo(1);
        assertThat(err.toString()).contains("missing.yaml: the file does not exist");
    }
}
