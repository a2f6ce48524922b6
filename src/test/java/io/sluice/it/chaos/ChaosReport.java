package io.sluice.it.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The measured figures of one chaos scenario: printed, and written to target/chaos/NAME.txt for docs/reliability.md. */
final class ChaosReport {
    private final String name;
    private final List<String> lines = new ArrayList<>();

    ChaosReport(String name) {
        this.name = name;
    }

    void line(String format, Object... args) {
        String line = String.format(format, args);
        lines.add(line);
        System.out.println("[chaos " + name + "] " + line);
    }

    void write() {
        try {
            Path file = Path.of("target", "chaos", name + ".txt");
            Files.createDirectories(file.getParent());
            Files.writeString(file, "# " + name + " " + Instant.now() + "\n" + String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
