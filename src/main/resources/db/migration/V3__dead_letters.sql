-- Events that could not be delivered (a permanent destination error, retries exhausted, a function that threw or
-- timed out), kept durably with the event and the error until replayed, and pruned only by deadLetters.retention.
CREATE TABLE dead_letters (
    id              bigserial PRIMARY KEY,
    sync_id         text        NOT NULL,
    message_id      text        NOT NULL,
    event           jsonb       NOT NULL,
    error           text        NOT NULL,
    status_code     int,
    attempts        int         NOT NULL,
    batch_id        bigint,
    first_failed_at timestamptz NOT NULL,
    failed_at       timestamptz NOT NULL,
    replayed_at     timestamptz,
    -- the same event failing again (after a replay, or a redelivered batch) updates its row instead of adding one
    CONSTRAINT dead_letters_once UNIQUE (sync_id, message_id)
);

CREATE INDEX dead_letters_by_time ON dead_letters (sync_id, failed_at);
