package io.sluice.destination.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Names the events of one delivery for its marker: the event's {@code messageId} and how many events with that
 * messageId precede it in the delivery (a client's retry can put one messageId into Kafka twice), as 128 bits of
 * SHA-256 in hex. Any messageId (NUL, newlines, 10 KB) becomes 32 characters.
 */
final class EventKeys {
    private EventKeys() {}

    static List<String> of(List<ObjectNode> events) {
        MessageDigest sha = sha256();
        Map<String, Integer> seen = new HashMap<>();
        List<String> keys = new ArrayList<>(events.size());
        for (ObjectNode event : events) {
            JsonNode id = event.get("messageId");
            String messageId = id == null || !id.isValueNode() ? "" : id.asText();
            int occurrence = seen.merge(messageId, 1, Integer::sum) - 1;
            sha.update(messageId.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            byte[] digest = sha.digest(Integer.toString(occurrence).getBytes(StandardCharsets.UTF_8));
            keys.add(HexFormat.of().formatHex(digest, 0, 16));
        }
        return keys;
    }

    /** 128 bits of SHA-256 of {@code text}, in hex: a user key as part of a marker key. */
    static String hash(String text) {
        return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)), 0, 16);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
