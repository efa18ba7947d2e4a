-- The delivery claim takes the queued notification with the earliest deadline that is due and
-- not replaced by a later version. With only `notification_due` (by next_attempt_at) it sorted
-- every due row per claim, so each claim cost grew with the backlog (measured by
-- tools/bench/pipeline.ts: 17.5 ms per claim with 6 000 queued). Walking this index in deadline
-- order stops at the first row that qualifies (0.11 ms in the same test).
CREATE INDEX notification_claim ON notification (deadline, id) WHERE state = 'queued';
