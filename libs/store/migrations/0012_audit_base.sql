-- The audit skeleton's retention (libs/audit `prune`): the chain's oldest events may be cut once
-- past their period, at a signed anchor, which becomes the chain's base. The anchor (kept in
-- audit_anchor) vouches for the base's hash, and the keyed `purged` event appended with the cut
-- records it, so a cut made with the database alone is detected.
CREATE TABLE audit_base (
  one  boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq  bigint  NOT NULL,
  hash text    NOT NULL
);

-- Events up to the base may be deleted (by the owner: nobody else holds DELETE); any other
-- change is still refused. A statement trigger (TRUNCATE) has no OLD: checked first.
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' THEN
    IF OLD.seq <= (SELECT seq FROM audit_base) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$;

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_base FROM PUBLIC;
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'encompass_gateway') THEN
    REVOKE ALL ON audit_base FROM encompass_gateway;
    GRANT SELECT ON audit_base TO encompass_gateway;
  END IF;
END
$$;
