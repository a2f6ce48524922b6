package io.sluice.destination;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What a destination is handed: events of one sync, in order, each an enriched event in the format of
 * docs/record-format.md, and where they come from ({@link #origin}): a planned batch's range of the events topic, or a
 * retry chain (one user's waiting events, read from the retry queue).
 *
 * <p>{@code subset} is null when {@code events} are the whole of their origin. When they are only some of it (earlier
 * attempts delivered the rest, some users' events wait in the retry queue, or a batch refused for some events' data is
 * split to find them), it names those events (a digest of their messageIds), so a receiver that dedupes by
 * idempotency key never takes one subset for another, and the same subset keeps its key across retries.
 */
public record DeliveryBatch(String syncId, String sourceId, Origin origin, List<ObjectNode> events, String subset) {

    /** Where a delivery's events come from; its {@link #key} is stable across retries and replays. */
    public sealed interface Origin {
        String key(String syncId);
    }

    /**
     * A planned batch (or a run of them): offsets {@code firstOffset}-{@code lastOffset} of one partition. {@code
     * backfill}: the id of the backfill that planned it, 0 for the live lane (docs/replay.md). It is not part of the
     * key: a backfill's rerun of a window sends the same keys.
     */
    public record BatchRange(long batchId, int partition, long firstOffset, long lastOffset, long backfill)
            implements Origin {
        public BatchRange(long batchId, int partition, long firstOffset, long lastOffset) {
            this(batchId, partition, firstOffset, lastOffset, 0);
        }

        @Override
        public String key(String syncId) {
            return syncId + ":" + partition + ":" + firstOffset + "-" + lastOffset;
        }
    }

    /** A retry chain: one user's waiting events, retry-queue rows {@code firstRowId}-{@code lastRowId}. */
    public record RetryChain(long firstRowId, long lastRowId) implements Origin {
        @Override
        public String key(String syncId) {
            return syncId + ":retry:" + firstRowId + "-" + lastRowId;
        }
    }

    public DeliveryBatch {
        events = List.copyOf(events);
    }

    /** The whole of a planned batch's range. */
    public DeliveryBatch(
            String syncId,
            String sourceId,
            long batchId,
            int partition,
            long firstOffset,
            long lastOffset,
            List<ObjectNode> events) {
        this(syncId, sourceId, new BatchRange(batchId, partition, firstOffset, lastOffset), events, null);
    }

    /** The whole of a planned batch's range of lane {@code backfill} (0: live). */
    public DeliveryBatch(
            String syncId,
            String sourceId,
            long batchId,
            int partition,
            long firstOffset,
            long lastOffset,
            long backfill,
            List<ObjectNode> events) {
        this(syncId, sourceId, new BatchRange(batchId, partition, firstOffset, lastOffset, backfill), events, null);
    }

    /** Some of this batch's events, named by a digest of their messageIds (see {@link #subset}). */
    public DeliveryBatch subset(List<ObjectNode> some) {
        return new DeliveryBatch(syncId, sourceId, origin, some, digest(some));
    }

    /**
     * A stable identity for idempotency keys: the same batch has the same key across retries and replays, and the
     * same subset of it the same key across the retries of that subset.
     */
    public String idempotencyKey() {
        String whole = origin.key(syncId);
        return subset == null ? whole : whole + "~" + subset;
    }

    /** The planned batch's id; 0 for a retry chain (no batch). */
    public long batchId() {
        return origin instanceof BatchRange range ? range.batchId() : 0;
    }

    /** A digest of the events' messageIds, in order: 16 hex digits of their SHA-256. */
    public static String digest(List<ObjectNode> events) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (ObjectNode event : events) {
                sha.update(event.path("messageId").asText("").getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
