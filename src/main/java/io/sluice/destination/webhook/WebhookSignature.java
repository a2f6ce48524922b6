package io.sluice.destination.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The request signature (docs/webhooks.md): {@code X-Sluice-Signature: sha256=<hex>}, the lower-case hex HMAC-SHA256,
 * keyed with the UTF-8 bytes of the secret, of the ASCII timestamp (the {@code X-Sluice-Timestamp} header, Unix
 * seconds), a '.', and the exact body bytes. Signing the timestamp with the body lets a receiver refuse old requests.
 */
final class WebhookSignature {
    static final String TIMESTAMP_HEADER = "X-Sluice-Timestamp";
    static final String SIGNATURE_HEADER = "X-Sluice-Signature";
    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;

    WebhookSignature(String secret) {
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM);
    }

    /** The {@code X-Sluice-Signature} value for this body sent at {@code timestamp} (Unix seconds). */
    String sign(long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM); // not thread-safe: one per signature
            mac.init(key);
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is always available", e);
        }
    }
}
