-- Raw feeds kept encrypted before decoding, and the quarantine (DESIGN.md §4, §8).

-- A feed's bytes are stored (sealed under its data key) before anything decodes them, so a
-- transport may acknowledge its peer as soon as they are: nothing accepted is lost.
-- receiving: bytes arriving; stored: waiting to be decoded; processed: decoded;
-- failed: the source could not read it at all (the reason is in `failure`).
ALTER TABLE feed
  ADD COLUMN state text NOT NULL DEFAULT 'processed' CHECK (state IN ('receiving', 'stored', 'processed', 'failed')),
  ADD COLUMN data_key bytea,
  ADD COLUMN claimed_until timestamptz,
  ADD COLUMN processed_at timestamptz,
  ADD COLUMN failure text;
-- Rows from before this migration kept no bytes: they stay 'processed'. New rows start receiving.
ALTER TABLE feed ALTER COLUMN state SET DEFAULT 'receiving';
CREATE INDEX feed_waiting ON feed (id) WHERE state = 'stored';

CREATE TABLE feed_chunk (
  feed_id bigint  NOT NULL REFERENCES feed (id) ON DELETE CASCADE,
  seq     integer NOT NULL,
  -- nonce ‖ AES-256-GCM ciphertext ‖ tag, under the feed's data key.
  sealed  bytea   NOT NULL,
  PRIMARY KEY (feed_id, seq)
);

-- The quarantine is the rejection table: each rejected record keeps its raw text sealed under
-- its feed's data key, and a status an operator moves on.
ALTER TABLE rejection
  ADD COLUMN record bytea,
  ADD COLUMN status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'replaced', 'discarded')),
  ADD COLUMN resolved_at timestamptz,
  ADD COLUMN resolution text;
CREATE INDEX rejection_open ON rejection (id) WHERE status = 'open';
