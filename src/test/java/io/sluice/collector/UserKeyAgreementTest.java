package io.sluice.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.event.UserKey;
import io.sluice.queue.RetryEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Per-user order holds only if every stage means the same user: the collector's partition key, the retry queue's
 * chains (and, through {@link UserKey}, the webhook lanes and the Kafka destination's record key) agree.
 */
class UserKeyAgreementTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void everyStageAgreesOnTheUserOfAnEvent() throws Exception {
        List<String> events = List.of(
                "{\"userId\":\"u1\",\"anonymousId\":\"a1\",\"messageId\":\"m1\"}",
                "{\"anonymousId\":\"a2\",\"messageId\":\"m2\"}",
                "{\"userId\":\"\",\"anonymousId\":\"a3\",\"messageId\":\"m3\"}",
                "{\"userId\":null,\"anonymousId\":\"a4\",\"messageId\":\"m4\"}",
                "{\"userId\":42,\"messageId\":\"m5\"}",
                "{\"userId\":{\"nested\":1},\"anonymousId\":\"a6\",\"messageId\":\"m6\"}",
                "{\"messageId\":\"m7\"}");
        List<String> expected = List.of("u1", "a2", "a3", "a4", "42", "a6", "message:m7");
        for (int i = 0; i < events.size(); i++) {
            ObjectNode event = (ObjectNode) MAPPER.readTree(events.get(i));
            assertThat(UserKey.of(event)).as(events.get(i)).isEqualTo(expected.get(i));
            assertThat(EventEnricher.partitionKey(event, "web")).isEqualTo("web:" + expected.get(i));
            assertThat(RetryEvent.userKey(event)).isEqualTo(expected.get(i));
        }
    }
}
