-- A batch the destination took only part of is retried as its one row: settled holds the keys (16 bytes each, see
-- SettledEvents) of its events that earlier attempts delivered, dead-lettered or handed to the retry queue, so that the
-- next attempt sends only the rest and the payloads stay in Kafka. NULL: nothing recorded yet.
ALTER TABLE batches ADD COLUMN settled bytea;
