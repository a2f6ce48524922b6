-- Why an event became a dead letter is data, not a prefix of its error message: 'delivery' (the destination refused
-- it or retries ran out) or 'function' (the sync's function threw or timed out; a replay runs the function again).
ALTER TABLE dead_letters ADD COLUMN kind text NOT NULL DEFAULT 'delivery' CHECK (kind IN ('delivery', 'function'));
UPDATE dead_letters SET kind = 'function', error = substr(error, 11) WHERE error LIKE 'function: %';
