-- Levqor core schema. Times are epoch seconds (double precision) so the operations
-- guide's maintenance SQL runs verbatim. Every tenant row carries tenant_id.

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  timezone    text NOT NULL DEFAULT 'UTC',
  created_at  double precision NOT NULL DEFAULT extract(epoch FROM now())
);

CREATE TABLE api_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name        text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  scopes      text[] NOT NULL DEFAULT '{}',
  created_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  revoked_at  double precision,
  UNIQUE (tenant_id, name)
);

CREATE TABLE workflows (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name             text NOT NULL,
  description      text,
  steps            jsonb NOT NULL,
  impact_class     text CHECK (impact_class IN ('A', 'B', 'C')),
  max_run_attempts integer NOT NULL DEFAULT 1 CHECK (max_run_attempts BETWEEN 1 AND 10),
  is_active        boolean NOT NULL DEFAULT true,
  schedule_config  jsonb NOT NULL DEFAULT '{"enabled": false}',
  last_run_at      double precision,
  next_run_at      double precision,
  created_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  UNIQUE (tenant_id, name)
);

-- The due scan reads only active, enabled workflows, oldest slot first.
CREATE INDEX workflows_due_idx ON workflows (next_run_at)
  WHERE is_active AND (schedule_config ->> 'enabled') = 'true';

CREATE TABLE workflow_runs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  workflow_id      uuid NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  status           text NOT NULL CHECK (status IN
                     ('queued', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled')),
  trigger          text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'api')),
  scheduled_for    double precision,
  started_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  finished_at      double precision,
  attempt          integer NOT NULL DEFAULT 1,
  step_index       integer NOT NULL DEFAULT 0,
  context          jsonb NOT NULL DEFAULT '{}',
  error            text,
  lease_owner      text,
  lease_expires_at double precision,
  -- The last guard of exactly-once: one run per workflow slot (manual runs have no slot).
  UNIQUE (workflow_id, scheduled_for)
);

CREATE INDEX workflow_runs_workflow_idx ON workflow_runs (workflow_id, started_at DESC);
CREATE INDEX workflow_runs_started_idx ON workflow_runs (started_at);
CREATE INDEX workflow_runs_active_idx ON workflow_runs (status, lease_expires_at)
  WHERE status IN ('queued', 'running', 'waiting_approval');
-- The overlap check: is a run of this workflow still going?
CREATE INDEX workflow_runs_active_by_workflow_idx ON workflow_runs (workflow_id)
  WHERE status IN ('queued', 'running', 'waiting_approval');

CREATE TABLE workflow_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid NOT NULL,
  run_id       uuid REFERENCES workflow_runs(id) ON DELETE CASCADE,
  workflow_id  uuid,
  type         text NOT NULL,
  step_index   integer,
  payload      jsonb NOT NULL DEFAULT '{}',
  created_at   double precision NOT NULL DEFAULT extract(epoch FROM now())
);

CREATE INDEX workflow_events_run_idx ON workflow_events (run_id, id);
CREATE INDEX workflow_events_created_idx ON workflow_events (created_at);

CREATE TABLE approval_queue (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  run_id                uuid REFERENCES workflow_runs(id) ON DELETE SET NULL,
  workflow_id           uuid REFERENCES workflows(id) ON DELETE SET NULL,
  step_index            integer,
  action_type           text NOT NULL,
  impact_class          text NOT NULL CHECK (impact_class IN ('A', 'B', 'C')),
  summary               text NOT NULL,
  payload               jsonb NOT NULL,
  payload_hash          text NOT NULL,
  status                text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  requested_by          text NOT NULL,
  requested_at          double precision NOT NULL DEFAULT extract(epoch FROM now()),
  expires_at            double precision NOT NULL,
  processed_at          double precision,
  processed_by          text,
  reason                text,
  execution_started_at  double precision,
  execution_finished_at double precision,
  CHECK ((status = 'pending') = (processed_at IS NULL))
);

CREATE INDEX approval_queue_tenant_status_idx ON approval_queue (tenant_id, status, requested_at, id);
CREATE INDEX approval_queue_processed_idx ON approval_queue (processed_at) WHERE status <> 'pending';
-- A run waits on at most one open request per step.
CREATE UNIQUE INDEX approval_queue_one_pending_idx ON approval_queue (run_id, step_index) WHERE status = 'pending';

CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL,
  actor       text NOT NULL,
  action      text NOT NULL,
  subject     text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}',
  created_at  double precision NOT NULL DEFAULT extract(epoch FROM now())
);

CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- One row per scheduler process: its last tick, for `levqor doctor` and health.
CREATE TABLE scheduler_instances (
  id            text PRIMARY KEY,
  hostname      text NOT NULL,
  pid           integer NOT NULL,
  started_at    double precision NOT NULL,
  last_tick_at  double precision NOT NULL,
  stopped_at    double precision,
  last_summary  jsonb NOT NULL DEFAULT '{}'
);
