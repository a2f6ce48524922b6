package io.sluice.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.cli.SluiceCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs a {@code sluice} command in-process, as a user would type it, and returns what it printed. */
public final class Cli {
    private Cli() {}

    /** Runs the command, asserts it exited 0, and returns its standard output. */
    public static String run(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = SluiceCli.run(args);
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        assertThat(code).as(output).isZero();
        return output;
    }

    /** What a command printed and how it exited. */
    public record Result(int code, String out, String err) {}

    /** Runs the command and returns its exit code and output, whatever the code. */
    public static Result exec(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream capturedOut = new ByteArrayOutputStream();
        ByteArrayOutputStream capturedErr = new ByteArrayOutputStream();
        System.setOut(new PrintStream(capturedOut, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(capturedErr, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = SluiceCli.run(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Result(
                code, capturedOut.toString(StandardCharsets.UTF_8), capturedErr.toString(StandardCharsets.UTF_8));
    }
}
