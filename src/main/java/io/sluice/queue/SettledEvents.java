package io.sluice.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.event.ExactText;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The events of a batch row that earlier attempts already settled — delivered, dead-lettered or handed to the retry
 * queue — so that a batch the destination took only part of is retried as its one row with the rest, the payloads
 * staying in Kafka (column {@code batches.settled}, docs/webhooks.md "Isolation").
 *
 * <p>An event is known by its {@code messageId} and by how many events with that messageId precede it in the batch
 * (client retries can put one messageId into Kafka twice), not by its position: a run of batches can be claimed one
 * by one later, and a function may change between attempts. Each key is the first 128 bits of SHA-256 of both (the
 * messageId's exact bytes, {@link ExactText#bytes}, the same as its UTF-8 for every valid string), so
 * keys of different events never meet in practice and an unsettled event is never skipped. Immutable.
 */
public final class SettledEvents {
    private static final int KEY_BYTES = 16;

    /** One event's identity within its batch. */
    public record Key(long high, long low) {}

    private final Set<Key> keys;

    private SettledEvents(Set<Key> keys) {
        this.keys = Set.copyOf(keys);
    }

    /** Nothing settled yet, but the batch's own dead letters (function failures) are written. */
    public static SettledEvents none() {
        return new SettledEvents(Set.of());
    }

    /** The keys of {@code events}, in order (see the class comment). */
    public static List<Key> keysOf(List<ObjectNode> events) {
        MessageDigest sha = sha256();
        Map<String, Integer> seen = new HashMap<>();
        List<Key> keys = new ArrayList<>(events.size());
        for (ObjectNode event : events) {
            JsonNode id = event.get("messageId");
            String messageId = id == null || !id.isValueNode() ? "" : id.asText();
            int occurrence = seen.merge(messageId, 1, Integer::sum) - 1;
            sha.update(ExactText.bytes(messageId)); // exact: getBytes makes lone surrogates '?', and ids equal
            sha.update((byte) 0);
            ByteBuffer digest =
                    ByteBuffer.wrap(sha.digest(Integer.toString(occurrence).getBytes(StandardCharsets.UTF_8)));
            keys.add(new Key(digest.getLong(), digest.getLong()));
        }
        return keys;
    }

    public boolean contains(Key key) {
        return keys.contains(key);
    }

    public int size() {
        return keys.size();
    }

    /** These and {@code more}. */
    public SettledEvents with(Collection<Key> more) {
        if (more.isEmpty()) return this;
        Set<Key> all = new HashSet<>(keys);
        all.addAll(more);
        return new SettledEvents(all);
    }

    /** Both (either may be null: nothing recorded). */
    public static SettledEvents union(SettledEvents a, SettledEvents b) {
        if (a == null) return b;
        if (b == null) return a;
        return a.with(b.keys);
    }

    public byte[] toBytes() {
        ByteBuffer out = ByteBuffer.allocate(keys.size() * KEY_BYTES);
        for (Key key : keys) out.putLong(key.high()).putLong(key.low());
        return out.array();
    }

    /** What {@link #toBytes()} wrote; null for null (the batch never recorded anything settled). */
    public static SettledEvents fromBytes(byte[] bytes) {
        if (bytes == null) return null;
        if (bytes.length % KEY_BYTES != 0)
            throw new IllegalArgumentException("settled events: " + bytes.length + " bytes, not keys of " + KEY_BYTES);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        Set<Key> keys = new HashSet<>();
        while (in.hasRemaining()) keys.add(new Key(in.getLong(), in.getLong()));
        return new SettledEvents(keys);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return keys.size() + " settled";
    }
}
