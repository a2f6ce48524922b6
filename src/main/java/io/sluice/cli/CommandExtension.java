package io.sluice.cli;

/**
 * A subcommand that lives outside the production source tree (the benchmarks in {@code src/bench/java}) and joins
 * {@code sluice} through {@link java.util.ServiceLoader}, so that no production package depends on it. An
 * implementation is a picocli {@code @Command}.
 */
public interface CommandExtension {}
