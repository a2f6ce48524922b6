-- Byte-exact storage (docs/reliability.md, "What is stored"). The retry queue and the dead letters keep each event as
-- the exact UTF-8 JSON bytes the collector accepted (bytea): jsonb cannot hold "\u0000" and rewrites numbers,
-- escapes, key order and repeated keys, so what a retry or a replay sent was not what was accepted. Rows written
-- before keep their jsonb text, which is all that is left of them.
ALTER TABLE dead_letters ALTER COLUMN event TYPE bytea USING convert_to(event::text, 'UTF8');
ALTER TABLE retry_events ALTER COLUMN event TYPE bytea USING convert_to(event::text, 'UTF8');

-- Ids of any length and content: unique indexes and chains hold SHA-256 keys of the ids (io.sluice.event.ExactText:
-- a one-byte kind, then the id's UTF-8), not the ids, whose index entries cannot exceed ~2.7 KB. The readable text
-- columns hold the id with '\' written '\\' and U+0000 written '\u0000' (text cannot hold U+0000), so two different
-- ids stay two different texts. A dead letter without a messageId is keyed by its event's bytes instead.
ALTER TABLE dead_letters ADD COLUMN message_key bytea;
UPDATE dead_letters SET
    message_key = CASE WHEN message_id = '' THEN sha256(decode('65', 'hex') || event)
                       ELSE sha256(decode('6d', 'hex') || convert_to(message_id, 'UTF8')) END,
    message_id = replace(message_id, E'\\', E'\\\\');
ALTER TABLE dead_letters ALTER COLUMN message_key SET NOT NULL;
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_once;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_once UNIQUE (sync_id, message_key);

ALTER TABLE retry_events ADD COLUMN user_hash bytea;
UPDATE retry_events SET
    user_hash = sha256(decode('75', 'hex') || convert_to(user_key, 'UTF8')),
    user_key = replace(user_key, E'\\', E'\\\\'),
    message_id = replace(message_id, E'\\', E'\\\\');
ALTER TABLE retry_events ALTER COLUMN user_hash SET NOT NULL;
DROP INDEX retry_events_chain;
CREATE INDEX retry_events_chain ON retry_events (sync_id, user_hash, id);
