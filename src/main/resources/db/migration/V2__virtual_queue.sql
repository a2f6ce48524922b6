-- The virtual queue: one row per planned batch. Payloads stay in Kafka; a row names the offset range to read back.

CREATE TABLE destinations (
    id         text PRIMARY KEY,
    type       text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE syncs (
    id             text PRIMARY KEY,
    source_id      text        NOT NULL,
    destination_id text        NOT NULL,
    filter_types   text[]      NOT NULL DEFAULT '{}',
    filter_events  text[]      NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE batches (
    id               bigserial PRIMARY KEY,
    sync_id          text        NOT NULL,
    topic            text        NOT NULL,
    kafka_partition  int         NOT NULL,
    first_offset     bigint      NOT NULL,
    last_offset      bigint      NOT NULL,
    event_count      int         NOT NULL,
    byte_count       bigint      NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead')),
    attempts         int         NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    lease_owner      text,
    lease_expires_at timestamptz,
    epoch            bigint      NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    -- a batch is planned once: replanning after a crash or rebalance collides here instead of duplicating
    CONSTRAINT batches_once UNIQUE (sync_id, topic, kafka_partition, first_offset),
    CHECK (last_offset >= first_offset)
);

-- Claims look at unfinished rows only; partial indexes keep them small however many done rows wait for pruning.
CREATE INDEX batches_due ON batches (next_attempt_at, id) WHERE status IN ('pending', 'running');
CREATE INDEX batches_partition_order ON batches (sync_id, topic, kafka_partition, first_offset) WHERE status IN ('pending', 'running');
CREATE INDEX batches_finished ON batches (finished_at) WHERE status = 'done';
CREATE INDEX batches_dead ON batches (sync_id, finished_at) WHERE status = 'dead';

-- How far each sync has planned each partition: the next offset to plan. Written in the same transaction as the
-- batch rows it accounts for; planners seek here on (re)assignment.
CREATE TABLE planner_progress (
    sync_id         text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition int         NOT NULL,
    next_offset     bigint      NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (sync_id, topic, kafka_partition)
);
