-- Corrections and withdrawals (TVP ISA 4.1, DESIGN.md §6): a new version of an occurrence is sent
-- to every recipient of the original as a correction that names it, and a recipient who should no
-- longer hold it is sent a withdrawal.

ALTER TABLE notification
  ADD COLUMN kind text NOT NULL DEFAULT 'notification' CHECK (kind IN ('notification', 'correction', 'withdrawal')),
  -- The earlier notification a correction replaces or a withdrawal withdraws.
  ADD COLUMN supersedes bigint REFERENCES notification (id);

-- Every notification of an occurrence to a recipient, by version: what a new version or a
-- withdrawal looks up, and what keeps the outbox from sending a version a later one replaced.
CREATE INDEX notification_occurrence ON notification (source, occurrence, recipient, version);
