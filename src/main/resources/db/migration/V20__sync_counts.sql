-- Per-sync delivery accounting (docs/console.md, "Delivery accounting"): one row per sync and minute, counters only
-- ever added to. The planner adds received and filtered in the same transaction as the planning positions they
-- cover; workers add what they recorded (delivered, dropped by the function, dead-lettered, failed attempts by class,
-- latencies) in one flush transaction every heartbeat; a replay adds replayed in its own transaction. Events blocked
-- by a contract never reach Kafka: they are counted from the violations table when read.
CREATE TABLE sync_counts (
    sync_id          text        NOT NULL,
    minute           timestamptz NOT NULL,
    received         bigint      NOT NULL DEFAULT 0, -- events of the sync's source planned past (filtered included)
    filtered         bigint      NOT NULL DEFAULT 0, -- of those, events the sync's filter does not want
    function_dropped bigint      NOT NULL DEFAULT 0, -- events the function returned nothing for
    delivered        bigint      NOT NULL DEFAULT 0,
    dead_lettered    bigint      NOT NULL DEFAULT 0,
    replayed         bigint      NOT NULL DEFAULT 0, -- dead letters handed back to delivery
    failed_4xx       bigint      NOT NULL DEFAULT 0, -- events of failed attempts, by the destination's answer
    failed_5xx       bigint      NOT NULL DEFAULT 0,
    failed_network   bigint      NOT NULL DEFAULT 0, -- no HTTP status: unreachable, timeout, refused connection
    discarded        bigint      NOT NULL DEFAULT 0, -- events of people a privacy request deleted (docs/privacy.md)
    backfilled       bigint      NOT NULL DEFAULT 0, -- events a backfill planned for the sync (docs/replay.md)
    latency_ms       bigint[]    NOT NULL DEFAULT '{}', -- delivered events by end-to-end latency (SyncCounts.LATENCY_BOUNDS_MS)
    PRIMARY KEY (sync_id, minute)
);

CREATE INDEX sync_counts_by_minute ON sync_counts (minute);
