-- When nobody answers: approval routes (ordered stages of approvers, each eligible after a wait)
-- and reminders on a schedule. A request keeps a snapshot of its route, so editing a route
-- changes no request already waiting. Stages and reminders are advanced by whichever process
-- sweeps (a conditional UPDATE … SKIP LOCKED: once across replicas) and announced as approval
-- events; the Slack app catches up from counters on the request (stage, reminders_sent).
CREATE TABLE approval_routes (
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- '*': every action type without a route of its own.
  action_type           text NOT NULL DEFAULT '*',
  -- [{ "name": "oncall", "approvers": ["slack:U1", "group:sre"], "after_seconds": 0 }, …], after_seconds ascending, the first 0.
  stages                jsonb NOT NULL CHECK (jsonb_typeof(stages) = 'array' AND jsonb_array_length(stages) BETWEEN 1 AND 10),
  -- A reminder every so often (NULL: none) and one at this fraction of the request's lifetime (NULL: none).
  remind_every_seconds  integer CHECK (remind_every_seconds BETWEEN 60 AND 604800),
  remind_at_fraction    double precision CHECK (remind_at_fraction > 0 AND remind_at_fraction < 1),
  updated_at            double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_by            text NOT NULL,
  PRIMARY KEY (tenant_id, action_type)
);

-- Due times are computed from requested_at, expires_at and the route (no stored schedule to
-- drift): a stage is due once its after_seconds have passed, a reminder once a scheduled time
-- lies after the last one sent (reminded_at, now the latest reminder).
ALTER TABLE approval_queue
  -- The route the request was made under (NULL: none; the tenant policy decides who may decide).
  ADD COLUMN route jsonb,
  -- How many stages are eligible (1 = the first).
  ADD COLUMN stage integer NOT NULL DEFAULT 1,
  ADD COLUMN reminders_sent integer NOT NULL DEFAULT 0,
  -- What the Slack app has announced of the above.
  ADD COLUMN slack_stage integer NOT NULL DEFAULT 1,
  ADD COLUMN slack_reminders integer NOT NULL DEFAULT 0;

-- Requests reminded before this migration count that reminder (and its thread reply).
UPDATE approval_queue SET reminders_sent = 1 WHERE reminded_at IS NOT NULL;
UPDATE approval_queue SET slack_reminders = 1 WHERE slack_reminder_ts IS NOT NULL;

DROP INDEX approval_queue_reminder_idx;
CREATE INDEX approval_queue_pending_requested_idx ON approval_queue (requested_at) WHERE status = 'pending';

ALTER TABLE approval_events DROP CONSTRAINT approval_events_type_check;
ALTER TABLE approval_events ADD CONSTRAINT approval_events_type_check
  CHECK (type IN ('requested', 'vote', 'approved', 'rejected', 'expired', 'reminder', 'escalated'));

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  ALTER TABLE approval_routes ENABLE ROW LEVEL SECURITY;
  ALTER TABLE approval_routes FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON approval_routes TO levqor_app
    USING (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid);
  CREATE POLICY service_access ON approval_routes USING (NOT pg_has_role(current_user, 'levqor_app', 'USAGE'));
  GRANT SELECT, INSERT, UPDATE, DELETE ON approval_routes TO levqor_app;
END
$$;
