package io.sluice.function;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.graalvm.polyglot.Source;

/**
 * One version of a function's source. {@code name} is what error messages and line numbers refer to; {@code file}
 * is null for inline source. The {@link Source} is built once, so every context evaluating it shares parsed code.
 */
record FunctionCode(String name, String text, Path file, Source source) {

    static FunctionCode of(String name, String text, Path file) {
        return new FunctionCode(
                name, text, file, Source.newBuilder("js", text, name).buildLiteral());
    }

    /**
     * A sync's {@code function}: a single line ending in {@code .js} is a file (relative to the config file's
     * directory); anything else is inline source.
     */
    static FunctionCode load(SluiceConfig config, SyncSettings sync, String key) {
        String spec = sync.function().strip();
        if (!isPath(spec)) return of("sync-" + sync.id() + ".js", sync.function(), null);
        Path file = config.resolve(spec);
        if (!Files.isRegularFile(file)) throw new ConfigException(key, "function file " + file + " does not exist");
        try {
            return of(file.getFileName().toString(), Files.readString(file), file);
        } catch (IOException e) {
            throw new ConfigException(key, "function file " + file + " could not be read: " + e.getMessage());
        }
    }

    static boolean isPath(String spec) {
        return spec.endsWith(".js")
                && spec.lines().count() == 1
                && spec.chars().noneMatch(c -> c == '(' || c == '{' || c == ';');
    }
}
