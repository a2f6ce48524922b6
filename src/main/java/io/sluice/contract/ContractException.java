package io.sluice.contract;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** A contract that cannot be used: its problems, each with where it is and, for files, its line. */
public final class ContractException extends RuntimeException {

    /**
     * @param line  1-based line in the contract file, or 0 when unknown (inline contracts, compile errors)
     * @param where the key path inside the contract, e.g. {@code events."Order Completed".properties.type}
     */
    public record Problem(int line, String where, String message) {
        @Override
        public String toString() {
            return (line > 0 ? "line " + line + ": " : "") + (where.isEmpty() ? "" : where + ": ") + message;
        }
    }

    private final Path file;
    private final List<Problem> problems;

    public ContractException(Path file, List<Problem> problems) {
        super((file == null ? "" : file + ": ")
                + problems.stream().map(Problem::toString).collect(Collectors.joining("; ")));
        this.file = file;
        this.problems = List.copyOf(problems);
    }

    /** The contract file, or null for an inline contract. */
    public Path file() {
        return file;
    }

    public List<Problem> problems() {
        return problems;
    }
}
