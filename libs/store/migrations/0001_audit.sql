-- The hash-chained audit log (DESIGN.md §7). libs/audit writes and verifies it.

-- One row per event. seq has no sequence behind it: the writer assigns head.seq + 1 under a row
-- lock, so a rolled-back transaction leaves no gap and a gap always means a deletion.
CREATE TABLE audit_event (
  seq       bigint      PRIMARY KEY,
  at        timestamptz NOT NULL,
  stage     text        NOT NULL,
  subject   text        NOT NULL,
  detail    jsonb       NOT NULL,
  prev_hash text        NOT NULL,
  hash      text        NOT NULL
);
-- Exports select by subject prefix (an occurrence, a notification).
CREATE INDEX audit_event_subject ON audit_event (subject text_pattern_ops);

-- The last event's seq and hash: detects deletion of the newest events, and its row lock
-- serialises writers across processes.
CREATE TABLE audit_head (
  one  boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq  bigint  NOT NULL,
  hash text    NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, repeat('0', 64));

-- Append-only for the application; verification still catches whoever disables this.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
