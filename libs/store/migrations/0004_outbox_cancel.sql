-- Operator commands on the outbox (DESIGN.md §6, `encompass outbox`).

-- cancelled: an operator withdrew the notification; it is never attempted again.
ALTER TABLE notification DROP CONSTRAINT notification_state_check;
ALTER TABLE notification ADD CONSTRAINT notification_state_check
  CHECK (state IN ('queued', 'delivered', 'dead', 'cancelled'));

ALTER TABLE notification
  -- Set while an attempt is in flight (the claim's lease), so an operator never re-queues or
  -- cancels a notification a channel is sending at that moment.
  ADD COLUMN claimed_until timestamptz,
  -- `attempts` when an operator last retried it: the attempt budget and back-off count only the
  -- attempts since, while `attempts` (and delivery_attempt.attempt) keep counting.
  ADD COLUMN budget_from integer NOT NULL DEFAULT 0,
  ADD COLUMN cancelled_at timestamptz,
  -- Who cancelled it and why.
  ADD COLUMN cancellation text;
