-- Privacy requests (docs/privacy.md): suppress, unsuppress or delete the data of people by userId/anonymousId.
-- Durable and audited: who asked, when, for which ids, and per target (the suppression topic, the queue database,
-- each destination) whether and when it was done, or why it failed; a failed target is retried until done.
CREATE TABLE privacy_requests (
    id              bigserial PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('suppress', 'unsuppress', 'delete')),
    requested_by    text        NOT NULL,
    requested_at    timestamptz NOT NULL,
    -- a client's key: the same key again returns this request instead of adding one
    idempotency_key text UNIQUE,
    user_count      int         NOT NULL,
    finished_at     timestamptz
);

-- The ids of a request, as their exact UTF-8 bytes (text cannot hold U+0000).
CREATE TABLE privacy_request_users (
    request_id bigint NOT NULL REFERENCES privacy_requests (id) ON DELETE CASCADE,
    user_id    bytea  NOT NULL,
    PRIMARY KEY (request_id, user_id)
);

-- Where a request must be carried out: 'suppression' (the compacted suppressions topic), 'queue' (retry queue and
-- dead letters), 'destination:<id>'. Leased like batches, so one process works on a target at a time and a
-- crashed one's lease simply expires.
CREATE TABLE privacy_request_targets (
    request_id       bigint      NOT NULL REFERENCES privacy_requests (id) ON DELETE CASCADE,
    target           text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'skipped')),
    attempts         int         NOT NULL DEFAULT 0,
    reason           text,
    affected         bigint,
    next_attempt_at  timestamptz NOT NULL,
    lease_owner      text,
    lease_expires_at timestamptz,
    updated_at       timestamptz NOT NULL,
    done_at          timestamptz,
    PRIMARY KEY (request_id, target)
);

CREATE INDEX privacy_targets_due ON privacy_request_targets (next_attempt_at) WHERE status IN ('pending', 'failed');
