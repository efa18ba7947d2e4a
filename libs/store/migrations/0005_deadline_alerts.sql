-- The deadline watch (DESIGN.md §6): each alert is raised once per notification and kind.

ALTER TABLE notification
  -- When the watch raised "at risk" (undelivered, deadline within the lead) and "missed"
  -- (undelivered past the deadline). Set in the same transaction as the alert's audit event, so
  -- several gateway processes scanning at once raise each alert exactly once.
  ADD COLUMN at_risk_alerted_at timestamptz,
  ADD COLUMN missed_alerted_at timestamptz;

-- What a scan looks at: undelivered notifications not yet alerted as missed, by deadline.
CREATE INDEX notification_watch ON notification (deadline)
  WHERE missed_alerted_at IS NULL AND state IN ('queued', 'dead');
