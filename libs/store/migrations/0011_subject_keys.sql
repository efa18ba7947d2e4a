-- Children's personal data sealed per subject (DESIGN.md §4): incident and notification bodies hold
-- ciphertext under these keys, never plaintext, and deleting a key crypto-shreds what it sealed.

-- One data key per child of an occurrence, and one ('' as child_ref) for the occurrence's own
-- details (its address, the circumstances), each wrapped by the master key.
CREATE TABLE subject_key (
  source     text        NOT NULL,
  occurrence text        NOT NULL,
  child_ref  text        NOT NULL,
  wrapped    bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, occurrence, child_ref)
);

-- Keys of the store itself, wrapped by the master key: `lookup` keys the MACs that compare
-- records without keeping their text. Rotating the master key re-wraps them with the rest.
CREATE TABLE store_key (
  name       text        PRIMARY KEY,
  wrapped    bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The children a notification carries, by reference: what corrections, supplements and overrides
-- look up, now that the body is sealed.
ALTER TABLE notification ADD COLUMN children text[];
UPDATE notification SET children = ARRAY(SELECT jsonb_array_elements_text(body -> 'children'));
ALTER TABLE notification ALTER COLUMN children SET NOT NULL;

-- A keyed MAC of the record, no longer its plain sha256 (which confirms a guessed record).
ALTER TABLE incident RENAME COLUMN body_sha256 TO body_mac;
