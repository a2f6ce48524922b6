package io.sluice.function;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** Where a context's {@code console.log} / {@code print} output goes: split into lines (each bounded) for a consumer. */
final class ConsoleSink extends OutputStream {
    static final int MAX_LINE = 2000;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final Consumer<String> lines;

    ConsoleSink(Consumer<String> lines) {
        this.lines = lines;
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            flushLine();
        } else if (line.size() < MAX_LINE * 4) {
            line.write(b);
        }
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
        for (int i = offset; i < offset + length; i++) write(bytes[i]);
    }

    @Override
    public synchronized void flush() {
        // lines are emitted at their newline; a trailing partial line waits for close()
    }

    @Override
    public synchronized void close() {
        if (line.size() > 0) flushLine();
    }

    private void flushLine() {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (text.endsWith("\r")) text = text.substring(0, text.length() - 1);
        lines.accept(text.length() > MAX_LINE ? text.substring(0, MAX_LINE) + "…" : text);
    }
}
