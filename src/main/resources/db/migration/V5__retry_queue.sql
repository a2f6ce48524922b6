-- The per-sync retry queue: events a destination refused retriably (and the later events of the same user held
-- behind them), retried one user chain at a time, in order. Batches stay the unit of planning; this queue holds
-- only the exceptions.
CREATE TABLE retry_events (
    id               bigserial PRIMARY KEY,
    sync_id          text        NOT NULL,
    user_key         text        NOT NULL,
    message_id       text        NOT NULL,
    event            jsonb       NOT NULL,
    attempts         int         NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    first_failed_at  timestamptz NOT NULL,
    last_error       text,
    status_code      int,
    lease_owner      text,
    lease_expires_at timestamptz,
    epoch            bigint      NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL
);

-- A chain is (sync, user) in id order; its head decides when the chain is due.
CREATE INDEX retry_events_chain ON retry_events (sync_id, user_key, id);
