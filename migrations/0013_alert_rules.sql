-- Alert rules are tenant settings (issue 25): one truth for every process, whatever its
-- environment. Each tenant has a row per rule; whichever process ticks (levqor serve, the
-- scheduler loop or --once, the bot) evaluates the tenant's rules under the tenant's row in
-- alert_evaluations, locked with SKIP LOCKED, so replicas evaluate a tenant once at a time
-- and every firing and resolution is recorded (and announced) once.
CREATE TABLE alert_rules (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  rule        text NOT NULL CHECK (rule IN ('scheduler_stale', 'approval_queue_depth', 'failure_rate')),
  threshold   double precision NOT NULL CHECK (threshold >= 0),
  enabled     boolean NOT NULL DEFAULT true,
  updated_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_by  text NOT NULL,
  PRIMARY KEY (tenant_id, rule)
);

-- One row per tenant: the evaluation lock, and when and where it last ran.
CREATE TABLE alert_evaluations (
  tenant_id     uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  evaluated_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  evaluated_by  text NOT NULL
);

-- Alerts belong to a tenant now. The ones recorded before were judged over every tenant at
-- once (the bug): they belong to no one, and a tenant's own evaluation fires them again
-- where they still hold.
DELETE FROM alerts;
ALTER TABLE alerts ADD COLUMN tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE;
-- What the rule measured when the alert resolved (the firing message keeps the firing value).
ALTER TABLE alerts ADD COLUMN resolved_message text;
ALTER TABLE alerts ADD COLUMN resolved_detail jsonb;
DROP INDEX alerts_one_firing_idx;
-- At most one firing alert per tenant and kind: the last guard against a second firing.
CREATE UNIQUE INDEX alerts_one_firing_idx ON alerts (tenant_id, kind) WHERE status = 'firing';
CREATE INDEX alerts_tenant_recent_idx ON alerts (tenant_id, fired_at DESC);

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
DECLARE
  t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['alert_rules', 'alert_evaluations', 'alerts'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO levqor_app
         USING (tenant_id = nullif(current_setting(''levqor.tenant_id'', true), '''')::uuid)
         WITH CHECK (tenant_id = nullif(current_setting(''levqor.tenant_id'', true), '''')::uuid)', t);
    EXECUTE format(
      'CREATE POLICY service_access ON %I USING (NOT pg_has_role(current_user, ''levqor_app'', ''USAGE''))', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO levqor_app', t);
  END LOOP;
END
$$;
