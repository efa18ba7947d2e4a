-- Intake, decisions and the outbox (DESIGN.md §4, §6).

-- Every batch as an intake transport received it. A repeat of the same bytes reuses its row.
CREATE TABLE feed (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source      text        NOT NULL,
  name        text        NOT NULL,
  transport   text        NOT NULL,
  sha256      text        NOT NULL,
  size_bytes  bigint      NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, sha256)
);

-- Records a source or the gateway could not accept: where, which field, why (never the value).
CREATE TABLE rejection (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  feed_id     bigint      NOT NULL REFERENCES feed (id),
  locator     text        NOT NULL,
  field       text,
  reason      text        NOT NULL,
  occurrence  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- A feed received again records each rejection once.
CREATE UNIQUE INDEX rejection_once ON rejection (feed_id, locator, coalesce(field, ''));

-- One occurrence version as normalised from its source.
CREATE TABLE incident (
  source      text        NOT NULL,
  occurrence  text        NOT NULL,
  version     integer     NOT NULL,
  category    text        NOT NULL,
  occurred_at timestamptz NOT NULL,
  feed_id     bigint      NOT NULL REFERENCES feed (id),
  body        jsonb       NOT NULL,
  -- Detects a record re-sent at the same version with different content.
  body_sha256 text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, occurrence, version)
);

-- One sharing decision per child and candidate recipient, share or withhold (TVP ISA 4.3).
CREATE TABLE decision (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source      text        NOT NULL,
  occurrence  text        NOT NULL,
  version     integer     NOT NULL,
  child_ref   text        NOT NULL,
  recipient   text        NOT NULL,
  outcome     text        NOT NULL,
  agreement   text        NOT NULL,
  rule        text        NOT NULL,
  clause      text        NOT NULL,
  rationale   text        NOT NULL,
  fields      text[]      NOT NULL,
  deadline    timestamptz NOT NULL,
  decided_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, occurrence, version, child_ref, recipient)
);

-- The outbox: one row per notification (recipient x occurrence version), delivered at least once.
CREATE TABLE notification (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key             text        NOT NULL UNIQUE,
  reference       text        NOT NULL UNIQUE,
  source          text        NOT NULL,
  occurrence      text        NOT NULL,
  version         integer     NOT NULL,
  recipient       text        NOT NULL,
  channel         text        NOT NULL,
  state           text        NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered', 'dead')),
  deadline        timestamptz NOT NULL,
  body            jsonb       NOT NULL,
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  remote_id       text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz
);
CREATE INDEX notification_due ON notification (next_attempt_at) WHERE state = 'queued';

-- Every attempt, successful or not.
CREATE TABLE delivery_attempt (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notification_id bigint      NOT NULL REFERENCES notification (id),
  attempt         integer     NOT NULL,
  at              timestamptz NOT NULL DEFAULT now(),
  outcome         text        NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),
  detail          text
);
