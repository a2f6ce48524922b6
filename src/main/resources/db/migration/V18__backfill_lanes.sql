-- Backfill and replay (docs/replay.md): a window of the events topic planned again for one sync, as its own lane.
-- lane 0 is the sync's live lane; any other value is the id of the backfill that planned the batch. Per-user order,
-- runs and the "planned once" rule hold within a lane, so a backfill's batches never wait behind live ones of the
-- same partition, nor live ones behind them.
ALTER TABLE batches ADD COLUMN lane bigint NOT NULL DEFAULT 0;
ALTER TABLE batches DROP CONSTRAINT batches_once;
ALTER TABLE batches ADD CONSTRAINT batches_once UNIQUE (sync_id, topic, kafka_partition, lane, first_offset);
DROP INDEX batches_partition_order;
CREATE INDEX batches_partition_order ON batches (sync_id, topic, kafka_partition, lane, first_offset)
    WHERE status IN ('pending', 'running');
CREATE INDEX batches_lane ON batches (lane, status) WHERE lane <> 0;

-- One row per requested backfill. The window is resolved to offsets when it is created (backfill_partitions), so a
-- dry run, the plan and a rerun of the same window all see the same events. The planner that holds the lease plans
-- it; another takes over when the lease expires (planner failover).
CREATE TABLE backfills (
    id               bigserial PRIMARY KEY,
    sync_id          text        NOT NULL,
    topic            text        NOT NULL,
    from_time        timestamptz NOT NULL,
    to_time          timestamptz,
    rate_per_second  int         NOT NULL CHECK (rate_per_second > 0),
    status           text        NOT NULL CHECK (status IN ('planning', 'paused', 'cancelled', 'done')),
    requested_by     text        NOT NULL,
    planned_events   bigint      NOT NULL DEFAULT 0,
    planned_batches  bigint      NOT NULL DEFAULT 0,
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz
);
-- One backfill at a time per sync: its batches have their own Kafka transactional ids (destination.kafka), one lane.
CREATE UNIQUE INDEX backfills_one_open ON backfills (sync_id) WHERE status IN ('planning', 'paused');

-- Per partition: the next offset to plan and the end of the window (exclusive), fixed at creation.
CREATE TABLE backfill_partitions (
    backfill_id     bigint NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
    kafka_partition int    NOT NULL,
    next_offset     bigint NOT NULL,
    end_offset      bigint NOT NULL,
    PRIMARY KEY (backfill_id, kafka_partition)
);
