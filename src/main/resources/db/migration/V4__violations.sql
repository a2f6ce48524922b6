-- Tracking-plan (contract) violations, published by the collectors to the violations topic and stored here in
-- batches by the violation writer (see docs/contracts.md). One row per violation; an event can have several.
CREATE TABLE violations (
    id          bigserial PRIMARY KEY,
    source_id   text        NOT NULL,
    message_id  text        NOT NULL,
    event_type  text        NOT NULL,              -- track | identify | group
    event_name  text,                              -- the track event's name; null for identify and group
    rule        text        NOT NULL,              -- unplanned_event, or the JSON Schema keyword that failed
    path        text        NOT NULL,              -- JSON path in the event, e.g. $.properties.total
    message     text        NOT NULL,
    action      text        NOT NULL,              -- allow | block | omit: what happened to the event
    occurred_at timestamptz NOT NULL,              -- when the collector received the event
    recorded_at timestamptz NOT NULL               -- when the row was written
);

CREATE INDEX violations_by_source_time ON violations (source_id, occurred_at);
