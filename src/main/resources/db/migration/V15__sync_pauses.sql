-- Syncs an operator paused from the console or the admin API: workers claim nothing of a paused sync (batches and
-- retry chains) while the planner keeps planning it, so resuming delivers the backlog in order. A row, not process
-- memory, so that a pause holds across every worker and survives restarts.
CREATE TABLE sync_pauses (
    sync_id   text PRIMARY KEY,
    paused_by text        NOT NULL,
    paused_at timestamptz NOT NULL
);
