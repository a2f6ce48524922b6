package io.sluice.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every form of an id is one-to-one: different ids never meet, the stored text reads back as the id. */
class ExactTextTest {
    static final List<String> HOSTILE_IDS = List.of(
            "plain-id",
            "x\0",
            "x\\u0000",
            "x\\\\u0000",
            "x\\",
            "x\\\\",
            "x",
            "",
            "line\nbreak",
            "cr\rreturn",
            "\u202eevil\u200f",
            "\u00e9t\u00e9 \ud83d\ude00",
            "\ud800",
            "\ud801",
            "a\udc00b",
            "x".repeat(10_240));

    @Test
    void storedTextReadsBackExactlyAndKeysAndBytesNeverMeet() {
        Set<String> stored = new HashSet<>();
        Set<String> keys = new HashSet<>();
        Set<String> bytes = new HashSet<>();
        for (String id : HOSTILE_IDS) {
            String column = ExactText.stored(id);
            assertThat(column).doesNotContain("\0");
            assertThat(ExactText.unstored(column)).isEqualTo(id);
            stored.add(column);
            keys.add(new String(ExactText.key('m', id), StandardCharsets.ISO_8859_1));
            bytes.add(new String(ExactText.bytes(id), StandardCharsets.ISO_8859_1));
        }
        assertThat(stored).hasSize(HOSTILE_IDS.size());
        assertThat(keys).hasSize(HOSTILE_IDS.size());
        assertThat(bytes).hasSize(HOSTILE_IDS.size());
        assertThat(ExactText.stored("plain-id")).isEqualTo("plain-id");
        assertThat(ExactText.bytes("\u00e9t\u00e9 \ud83d\ude00"))
                .as("valid text: plain UTF-8")
                .isEqualTo("\u00e9t\u00e9 \ud83d\ude00".getBytes(StandardCharsets.UTF_8));
        assertThat(ExactText.bytes("\ud800")).containsExactly(0xED, 0xA0, 0x80);
    }

    @Test
    void readableTextHasNoNul() {
        assertThat(ExactText.readable("event x\0: HTTP 400")).isEqualTo("event x\uFFFD: HTTP 400");
        assertThat(ExactText.readable(null)).isNull();
    }
}
