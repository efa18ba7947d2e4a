-- An audit log nobody can rewrite (libs/audit): signed anchors of the chain's head, and on a
-- server the gateway's role may only append. See README "Database roles".

-- The head's (seq, hash), signed with Ed25519 (libs/audit AuditAnchor); exported with
-- `encompass audit anchors` to be kept outside the database. signed_at is kept as signed.
CREATE TABLE audit_anchor (
  seq        bigint PRIMARY KEY,
  hash       text   NOT NULL,
  signed_at  text   NOT NULL,
  public_key text   NOT NULL,
  signature  text   NOT NULL
);

-- Anchors a verification passed through: an incremental `audit verify` starts at the newest.
CREATE TABLE audit_verified (
  anchor bigint      NOT NULL REFERENCES audit_anchor (seq),
  at     timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION audit_table_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER audit_anchor_append_only BEFORE UPDATE OR DELETE ON audit_anchor
  FOR EACH ROW EXECUTE FUNCTION audit_table_append_only();
CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
  FOR EACH STATEMENT EXECUTE FUNCTION audit_table_append_only();
CREATE TRIGGER audit_verified_append_only BEFORE UPDATE OR DELETE ON audit_verified
  FOR EACH ROW EXECUTE FUNCTION audit_table_append_only();
CREATE TRIGGER audit_verified_no_truncate BEFORE TRUNCATE ON audit_verified
  FOR EACH STATEMENT EXECUTE FUNCTION audit_table_append_only();

-- The triggers stop the application, but a table's owner may disable them: the gateway must not
-- own these tables. Nobody but the owner may change audit rows; the gateway's role, when the
-- deployment has made one, appends and reads, and moves the head. Nothing here needs a
-- superuser, so PGlite and a migration role that is not one apply it alike.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, audit_anchor, audit_verified FROM PUBLIC;
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'encompass_gateway') THEN
    REVOKE ALL ON audit_event, audit_anchor, audit_verified, audit_head FROM encompass_gateway;
    GRANT SELECT, INSERT ON audit_event, audit_anchor, audit_verified TO encompass_gateway;
    GRANT SELECT, UPDATE ON audit_head TO encompass_gateway;
  END IF;
END
$$;
