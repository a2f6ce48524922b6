package io.sluice.destination.webhook;

import io.sluice.event.ExactText;

/**
 * The {@code Idempotency-Key} of an event-mode request, made from the event's messageId, which is client text: it
 * may hold non-ASCII, newlines, control characters or 10 KB, none of which an HTTP header value can carry (Java's
 * client refuses them with an exception, which once blocked a user's events for the whole retry policy). So the key
 * is always encoded, stably (the same id gives the same key on every retry and replay) and one-to-one (two ids
 * never share a key, docs/webhooks.md "Idempotency keys"):
 *
 * <ul>
 *   <li>the id's UTF-8 bytes ({@link ExactText#bytes}), each byte outside visible ASCII ({@code !} to {@code ~}) and
 *       every {@code %} written as {@code %XX} (upper-case hex): an id of visible ASCII without {@code %} (a UUID,
 *       {@code sluice-<uuid>}, what SDKs send) is its own key, as before this encoding existed;
 *   <li>when that is longer than {@link #MAX_LENGTH} characters, {@code %sha256:} and the SHA-256 of the id's bytes
 *       in lower-case hex. An encoded id never contains {@code %s}, so the two forms never meet.
 * </ul>
 */
final class IdempotencyKey {
    /** Longer encoded ids are hashed: receivers and proxies limit header sizes (often 8 KB for all headers). */
    static final int MAX_LENGTH = 512;

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private IdempotencyKey() {}

    static String of(String messageId) {
        if (isPlain(messageId)) return messageId;
        byte[] bytes = ExactText.bytes(messageId);
        StringBuilder key = new StringBuilder(Math.min(bytes.length * 3, MAX_LENGTH + 3));
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (c > ' ' && c < 0x7F && c != '%') key.append((char) c);
            else key.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            if (key.length() > MAX_LENGTH) return "%sha256:" + ExactText.sha256Hex(messageId);
        }
        return key.toString();
    }

    /** Visible ASCII without '%', and short enough: the id is its own key (the common case, no copy). */
    private static boolean isPlain(String id) {
        if (id.length() > MAX_LENGTH) return false;
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c <= ' ' || c >= 0x7F || c == '%') return false;
        }
        return true;
    }
}
