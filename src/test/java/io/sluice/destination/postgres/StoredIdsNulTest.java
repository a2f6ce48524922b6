package io.sluice.destination.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.event.ExactEvent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** U+0000 is found in an event read from bytes (by its escape) exactly as in the same event's tree. */
class StoredIdsNulTest {
    @Test
    void theBytesAnswerLikeTheTree() throws Exception {
        String nul = "\\" + "u0000";
        String[] events = {
            "{\"a\":\"plain\",\"b\":{\"c\":[1,\"x\"]}}",
            "{\"a\":\"x" + nul + "y\"}",
            "{\"a\":{\"deep\":[\"" + nul + "\"]}}",
            "{\"k" + nul + "\":1}",
            "{\"a\":\"\\\\u0000 is an escaped backslash, not U+0000\"}",
            "{\"a\":\"\\\\" + nul + "\"}"
        };
        boolean[] expected = {false, true, true, true, false, true};
        for (int i = 0; i < events.length; i++) {
            ObjectNode exact = ExactEvent.of(events[i].getBytes(StandardCharsets.UTF_8));
            assertThat(exact).isInstanceOf(ExactEvent.class);
            ObjectNode tree = (ObjectNode) WarehouseFixture.JSON.readTree(events[i]);
            assertThat(StoredIds.hasNul(exact)).as(events[i]).isEqualTo(expected[i]);
            assertThat(StoredIds.hasNul(tree)).as(events[i]).isEqualTo(expected[i]);
        }
    }
}
