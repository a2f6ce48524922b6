package io.sluice.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** An event read from bytes writes out as those bytes, however Jackson is asked to write it. */
class ExactEventTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Each of these a tree re-serialisation would change: 1.10, 1E2, -0, a big integer, escapes, spacing. */
    private static final String ACCEPTED = "{\"messageId\":\"m\\u0000\\\\u0000\\n\\u200f\u00e9\\ud83d\\ude00\","
            + " \"properties\":{\"a\":1.10,\"b\":1E2,\"c\":-0,\"d\":123456789012345678901234567890,\"e\":\"\\/\"}}";

    @Test
    void everyWayOfWritingTheEventGivesTheAcceptedBytes() throws Exception {
        byte[] accepted = ACCEPTED.getBytes(StandardCharsets.UTF_8);
        ObjectNode event = ExactEvent.of(accepted);
        assertThat(event).isInstanceOf(ExactEvent.class);
        assertThat(MAPPER.writeValueAsString(MAPPER.readTree(accepted)))
                .as("what the tree alone would send")
                .isNotEqualTo(ACCEPTED);

        assertThat(ExactEvent.bytes(event)).isEqualTo(accepted);
        assertThat(MAPPER.writeValueAsBytes(event)).isEqualTo(accepted);
        assertThat(event.toString()).isEqualTo(ACCEPTED);
        assertThat(MAPPER.writeValueAsString(MAPPER.createArrayNode().add(event).add(event)))
                .isEqualTo("[" + ACCEPTED + "," + ACCEPTED + "]");
        ObjectNode wrapper = MAPPER.createObjectNode();
        wrapper.set("event", event);
        assertThat(MAPPER.writeValueAsString(wrapper)).isEqualTo("{\"event\":" + ACCEPTED + "}");
        assertThat(event.path("messageId").asText()).isEqualTo("m\0\\u0000\n\u200f\u00e9\ud83d\ude00");
        assertThat(event).isEqualTo(MAPPER.readTree(accepted));
    }

    @Test
    void aCopyIsAPlainTreeAndATreeSerialises() throws Exception {
        ObjectNode event = ExactEvent.of(ACCEPTED.getBytes(StandardCharsets.UTF_8));
        ObjectNode copy = event.deepCopy();
        copy.put("added", 1);
        assertThat(copy).isNotInstanceOf(ExactEvent.class);
        assertThat(new String(ExactEvent.bytes(copy), StandardCharsets.UTF_8)).contains("\"added\":1", "1.1");
        assertThat(ExactEvent.parse("[1]".getBytes(StandardCharsets.UTF_8))).isNotInstanceOf(ExactEvent.class);
        assertThat(ExactEvent.parse("{\"a\":1}".getBytes(StandardCharsets.UTF_16LE)))
                .as("not UTF-8: kept as a tree, written as JSON")
                .isNotInstanceOf(ExactEvent.class)
                .isEqualTo(MAPPER.readTree("{\"a\":1}"));
    }

    /** The root object is read into the event itself: only it is exact, and a failed read leaves nothing behind. */
    @Test
    void onlyTheRootIsTheExactEvent() throws Exception {
        ObjectNode event = ExactEvent.of(ACCEPTED.getBytes(StandardCharsets.UTF_8));
        assertThat(event.get("properties")).isNotInstanceOf(ExactEvent.class);
        assertThat(event.get("properties").get("a").decimalValue()).isEqualByComparingTo("1.1");
        assertThat(event.properties()).hasSize(2);

        assertThatThrownBy(() -> ExactEvent.parse("{\"a\":".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class);
        assertThat(ExactEvent.parse("[{\"a\":1}]".getBytes(StandardCharsets.UTF_8))
                        .get(0))
                .as("after a failed read, an object inside an array is a plain tree")
                .isNotInstanceOf(ExactEvent.class)
                .isEqualTo(MAPPER.readTree("{\"a\":1}"));
        ObjectNode built = MAPPER.createObjectNode();
        assertThat(event.deepCopy().putObject("x")).isNotInstanceOf(ExactEvent.class);
        assertThat(built.putObject("y")).isNotInstanceOf(ExactEvent.class);
    }
}
