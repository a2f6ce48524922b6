package io.sluice.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/**
 * What a Sluice process that writes to the queue database says about itself on the control topic, every second:
 * {@code running}, {@code quiescing} (paused, finishing what it holds) or {@code quiesced} (paused, no writes).
 * {@code pauseSeen} is the offset of the pause/resume request its gate acts on, so {@code db pause} counts a
 * "quiesced" only from processes that applied its own request.
 */
public record ProcessReport(
        String id,
        String roles,
        String state,
        String writer,
        String heldBecause,
        String lastWriterChange,
        Instant at,
        long pauseSeen) {
    public static final Duration LIVE_WITHIN = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    public boolean live(Instant now) {
        return at.plus(LIVE_WITHIN).isAfter(now);
    }

    byte[] toJson() {
        ObjectNode node = JSON.createObjectNode()
                .put("id", id)
                .put("roles", roles)
                .put("state", state)
                .put("writer", writer)
                .put("heldBecause", heldBecause)
                .put("lastWriterChange", lastWriterChange)
                .put("at", at.toString())
                .put("pauseSeen", pauseSeen);
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }

    static ProcessReport fromJson(byte[] value) {
        try {
            JsonNode node = JSON.readTree(value);
            return new ProcessReport(
                    node.path("id").asText(),
                    node.path("roles").asText(),
                    node.path("state").asText(),
                    node.path("writer").asText(null),
                    node.path("heldBecause").asText(null),
                    node.path("lastWriterChange").asText(null),
                    Instant.parse(node.path("at").asText()),
                    node.path("pauseSeen").asLong(-1));
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return String.format(
                "%-45s %-22s %-10s writer=%s%s",
                id,
                roles,
                state,
                writer == null ? "?" : writer,
                heldBecause == null ? "" : " (writes held: " + heldBecause + ")");
    }
}
