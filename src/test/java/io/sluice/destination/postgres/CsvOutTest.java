package io.sluice.destination.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.postgresql.copy.CopyIn;
import org.postgresql.util.ByteStreamWriter;

/** The byte-level CSV writer gives exactly the UTF-8 of the CSV the StringBuilder version built. */
class CsvOutTest {
    /** What the server would receive. */
    static final class Captured implements CopyIn {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void writeToCopy(byte[] buf, int off, int siz) {
            bytes.write(buf, off, siz);
        }

        @Override
        public void writeToCopy(ByteStreamWriter from) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void flushCopy() {}

        @Override
        public long endCopy() {
            return 0;
        }

        @Override
        public int getFieldCount() {
            return 0;
        }

        @Override
        public int getFormat() {
            return 0;
        }

        @Override
        public int getFieldFormat(int field) {
            return 0;
        }

        @Override
        public boolean isActive() {
            return false;
        }

        @Override
        public void cancelCopy() {}

        @Override
        public long getHandledRowCount() {
            return 0;
        }
    }

    @Test
    void randomTextIncludingQuotesSurrogatesAndLongValuesIsQuotedAndEncodedExactly() throws Exception {
        Random random = new Random(3);
        Captured captured = new Captured();
        CsvOut out = new CsvOut().to(captured);
        StringBuilder expected = new StringBuilder();
        for (int v = 0; v < 5_000; v++) {
            String text = text(random, v % 500 == 0 ? 70_000 : random.nextInt(60));
            if (v % 2 == 0) {
                out.quotedText(text);
            } else { // a value written twice, the second time from the bytes it kept
                Value value = new Value(Value.Kind.TEXT, text, text);
                out.quoted(value, true);
                out.comma();
                out.quoted(value, true);
                expected.append('"').append(text.replace("\"", "\"\"")).append("\",");
            }
            out.comma();
            expected.append('"').append(text.replace("\"", "\"\"")).append("\",");
            if (v % 7 == 0) {
                out.raw(v);
                out.newline();
                expected.append(v).append('\n');
            }
        }
        Instant at = Instant.parse("2026-03-01T12:00:00.123456Z");
        out.quoted(at);
        out.quoted(Instant.parse("2026-03-01T12:00:00.123456789Z")); // beyond micros: Instant.toString
        expected.append("\"2026-03-01T12:00:00.123456Z\"\"2026-03-01T12:00:00.123456789Z\"");
        out.end();
        assertThat(captured.bytes.toByteArray()).isEqualTo(expected.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String text(Random random, int length) {
        StringBuilder text = new StringBuilder();
        while (text.length() < length) {
            switch (random.nextInt(8)) {
                case 0 -> text.append('"');
                case 1 -> text.append((char) (0x80 + random.nextInt(0x780))); // 2 bytes
                case 2 -> text.append((char) (0x800 + random.nextInt(0xD000))); // 3 bytes
                case 3 -> text.appendCodePoint(0x10000 + random.nextInt(0xFFFF)); // a surrogate pair
                default -> text.append((char) (' ' + random.nextInt(95)));
            }
        }
        return text.toString();
    }
}
