package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Settled keys are exact: different messageIds never share a key, so an unsettled event is never skipped. */
class SettledEventsTest {

    private static ObjectNode event(String messageId) {
        return JsonNodeFactory.instance.objectNode().put("messageId", messageId);
    }

    @Test
    void idsThatDifferOnlyInWhatLossyEncodingsDropHaveTheirOwnKeys() {
        List<ObjectNode> events =
                List.of(event("\ud800"), event("\ud801"), event("?"), event("x\0"), event("x\\u0000"), event("x"));
        List<SettledEvents.Key> keys = SettledEvents.keysOf(events);
        assertThat(keys).doesNotHaveDuplicates();

        SettledEvents settled = SettledEvents.fromBytes(
                SettledEvents.none().with(List.of(keys.getFirst())).toBytes());
        assertThat(SettledEvents.keysOf(List.of(event("\ud801"), event("\ud800"))))
                .as("only the settled one is skipped, in whatever batch order")
                .extracting(settled::contains)
                .containsExactly(false, true);
    }

    @Test
    void aRepeatedMessageIdIsKnownByItsOccurrence() {
        List<SettledEvents.Key> keys = SettledEvents.keysOf(List.of(event("m"), event("m"), event("m\0")));
        assertThat(keys).doesNotHaveDuplicates();
    }
}
