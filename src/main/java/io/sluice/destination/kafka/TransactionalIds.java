package io.sluice.destination.kafka;

import java.nio.charset.StandardCharsets;

/**
 * The transactional ids of the Kafka destination's producers, one per unit of delivery that never runs twice at once:
 * a sync's events-topic partition (its batches are delivered one after another) and, for the per-event retry queue, a
 * sync's retry slot (a user's chain always hashes to the same slot). A producer's {@code initTransactions} fences
 * every older producer with the same id, so a worker that lost its lease can no longer commit.
 *
 * <p>Sync ids are percent-encoded outside {@code [A-Za-z0-9._]} (so {@code -} only ever separates), which keeps the ids
 * of different syncs and partitions apart whatever the sync ids contain.
 */
final class TransactionalIds {
    /** Retry chains of one sync are spread over this many transactional ids. */
    static final int RETRY_SLOTS = 8;

    private TransactionalIds() {}

    /** {@code sluice-<sync>-<partition>}: the batches of one sync and events-topic partition. */
    static String forPartition(String syncId, int partition) {
        return "sluice-" + encode(syncId) + "-" + partition;
    }

    /**
     * {@code sluice-<sync>-<partition>-backfill}: the batches of a sync's backfill lane of one partition (one backfill
     * at a time per sync, docs/replay.md), delivered beside the live lane's, so never under the live lane's id.
     */
    static String forBackfill(String syncId, int partition) {
        return forPartition(syncId, partition) + "-backfill";
    }

    /** {@code sluice-<sync>-retry-<slot>}: the retry chains of one sync whose user hashes to {@code slot}. */
    static String forRetries(String syncId, int slot) {
        return "sluice-" + encode(syncId) + "-retry-" + slot;
    }

    static int retrySlot(String userKey) {
        return Math.floorMod(userKey.hashCode(), RETRY_SLOTS);
    }

    static String encode(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_') {
                out.append(c);
            } else {
                out.append('%')
                        .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
