package io.sluice.privacy;

import java.time.Instant;
import java.util.List;

/**
 * One privacy request as stored, with its audit: who asked and when, for how many ids, and per target its state.
 *
 * @param finishedAt when every target was done or skipped; null while any is pending or failed
 */
public record PrivacyRequest(
        long id,
        PrivacyKind kind,
        String requestedBy,
        Instant requestedAt,
        String idempotencyKey,
        int userCount,
        Instant finishedAt,
        List<Target> targets) {

    /** {@code pending} | {@code done} | {@code failed} (some target failed and is being retried). */
    public String state() {
        if (finishedAt != null) return "done";
        return targets.stream().anyMatch(t -> t.status().equals(Target.FAILED)) ? "failed" : "pending";
    }

    /**
     * Where the request is carried out: {@code suppression}, {@code queue}, or {@code destination:<id>}.
     *
     * @param status   pending, done, failed (retried at {@code nextAttemptAt}) or skipped (nothing this target can do)
     * @param reason   why it failed or was skipped, or what was done
     * @param affected how many rows, records or ids it touched, when known
     */
    public record Target(
            String name,
            String status,
            int attempts,
            String reason,
            Long affected,
            Instant nextAttemptAt,
            Instant updatedAt,
            Instant doneAt) {
        public static final String PENDING = "pending", DONE = "done", FAILED = "failed", SKIPPED = "skipped";
        public static final String SUPPRESSION = "suppression", QUEUE = "queue", DESTINATION = "destination:";
    }
}
