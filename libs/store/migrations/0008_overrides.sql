-- Recorded overrides of a sensitive-case withhold (TVP ISA 3 "unless there is an overriding public
-- safety requirement"; Bedford ISA 7, each case on its merits), and the cause of a re-decision.

-- One person's decision to share a case marked sensitive: for one child of an occurrence (every
-- version of it), with one recipient (a recipientKey) or, when NULL, every recipient. Revoking
-- keeps the row: who granted it, who revoked it, and why, stay on record.
CREATE TABLE sensitive_override (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source      text        NOT NULL,
  occurrence  text        NOT NULL,
  child_ref   text        NOT NULL,
  recipient   text,
  granted_by  text        NOT NULL,
  role        text        NOT NULL,
  reason      text        NOT NULL,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  revoked_by  text,
  revocation  text
);
-- At most one live override for a child and recipient; what a decision looks up.
CREATE UNIQUE INDEX sensitive_override_live ON sensitive_override (source, occurrence, child_ref, coalesce(recipient, ''))
  WHERE revoked_at IS NULL;

-- A decision row holds the latest decision for its child and recipient; a re-decision (a replay,
-- an override granted or revoked) replaces it and says why here. NULL: decided at intake. Every
-- decision, the replaced ones included, is in the audit log.
ALTER TABLE decision ADD COLUMN cause text;

-- A child the gateway quarantined because its school is not in the directory: the stored version
-- of its occurrence whose decision raised the entry, which `quarantine retry` decides again. NULL:
-- a record its source rejected, or a whole feed.
ALTER TABLE rejection ADD COLUMN decided_version integer;
-- Entries raised before this column said what they were only in their reason: the version their
-- feed stored, else (raised by a replay) the newest stored.
UPDATE rejection r SET decided_version = coalesce(
    (SELECT max(i.version) FROM incident i JOIN feed f ON f.source = i.source
      WHERE f.id = r.feed_id AND i.occurrence = r.occurrence AND i.feed_id = r.feed_id),
    (SELECT max(i.version) FROM incident i JOIN feed f ON f.source = i.source
      WHERE f.id = r.feed_id AND i.occurrence = r.occurrence))
  WHERE r.record IS NULL AND r.occurrence IS NOT NULL AND r.reason LIKE 'no setting with this URN in the directory%';
