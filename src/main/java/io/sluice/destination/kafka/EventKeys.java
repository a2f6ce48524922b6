package io.sluice.destination.kafka;

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
 * Names the events of one delivery for its marker: the event's whole JSON as sent (messageId, receivedAt, ...) and how
 * many identical events precede it in the delivery, as 128 bits of SHA-256 in hex. The content, not only the
 * messageId, so that markers left on a cluster by another installation (a new queue database and events topic whose
 * batch ids, offsets and test messageIds start over) never match this installation's events; any event becomes 32
 * characters.
 */
final class EventKeys {
    private EventKeys() {}

    /** The keys of {@code events} (their JSON as the destination sends it), in order. */
    static List<String> of(List<ObjectNode> events, List<byte[]> json) {
        MessageDigest sha = sha256();
        Map<String, Integer> seen = new HashMap<>();
        List<String> keys = new ArrayList<>(events.size());
        for (byte[] bytes : json) {
            String content = HexFormat.of().formatHex(sha.digest(bytes));
            int occurrence = seen.merge(content, 1, Integer::sum) - 1;
            sha.update(content.getBytes(StandardCharsets.US_ASCII));
            byte[] digest = sha.digest(Integer.toString(occurrence).getBytes(StandardCharsets.US_ASCII));
            keys.add(HexFormat.of().formatHex(digest, 0, 16));
        }
        return keys;
    }

    /** One name for all of {@code keys}: 128 bits of SHA-256 over them, in hex. */
    static String digest(List<String> keys) {
        MessageDigest sha = sha256();
        keys.forEach(k -> sha.update(k.getBytes(StandardCharsets.US_ASCII)));
        return HexFormat.of().formatHex(sha.digest(), 0, 16);
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
