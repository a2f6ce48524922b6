package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The delivery meters read receivedAt without an Instant for the collector's shape, and like Instant.parse else. */
class ReceivedAtMicrosTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void receivedAtIsReadAsMicrosecondsOrSkipped() {
        for (String text : new String[] {
            "2026-12-08T01:02:03.456Z",
            "2026-12-08T01:02:03Z",
            "2026-12-08T01:02:03.123456789Z",
            "1969-12-31T23:59:59.5Z"
        }) {
            Instant at = Instant.parse(text);
            assertThat(WorkerMetrics.receivedAtMicros(event(text)))
                    .as(text)
                    .isEqualTo(at.getEpochSecond() * 1_000_000L + at.getNano() / 1_000);
        }
        assertThat(WorkerMetrics.receivedAtMicros(event("not a time"))).isEqualTo(WorkerMetrics.NO_TIME);
        assertThat(WorkerMetrics.receivedAtMicros(JSON.createObjectNode())).isEqualTo(WorkerMetrics.NO_TIME);
    }

    private static ObjectNode event(String receivedAt) {
        return JSON.createObjectNode().put("receivedAt", receivedAt);
    }
}
