-- Reports, analytics and the auto-marketing cycle: engagement events sent by a tenant's
-- product (POST /api/events), the campaigns the marketing cycle proposed (one per tenant,
-- campaign and week, so a second cycle in the same week proposes nothing twice), and the
-- indexes the weekly report and analytics read by (tenant, time range).

CREATE TABLE engagement_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     text NOT NULL,
  event       text NOT NULL,
  properties  jsonb NOT NULL DEFAULT '{}',
  created_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  -- Set by the sender to make a retried batch harmless: one row per (tenant, event_id).
  event_id    text
);

CREATE INDEX engagement_events_tenant_time_idx ON engagement_events (tenant_id, created_at);
CREATE INDEX engagement_events_tenant_user_idx ON engagement_events (tenant_id, user_id, created_at);
CREATE UNIQUE INDEX engagement_events_dedup_idx ON engagement_events (tenant_id, event_id) WHERE event_id IS NOT NULL;

CREATE TABLE marketing_campaigns (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  campaign     text NOT NULL,
  week         text NOT NULL,
  workflow_id  uuid REFERENCES workflows(id) ON DELETE SET NULL,
  run_id       uuid REFERENCES workflow_runs(id) ON DELETE SET NULL,
  audience     integer NOT NULL,
  evidence     jsonb NOT NULL DEFAULT '{}',
  created_at   double precision NOT NULL DEFAULT extract(epoch FROM now()),
  PRIMARY KEY (tenant_id, campaign, week)
);

-- Weekly report and analytics: one tenant's runs, requests and audit entries in a time range.
CREATE INDEX workflow_runs_tenant_started_idx ON workflow_runs (tenant_id, started_at);
CREATE INDEX approval_queue_tenant_requested_idx ON approval_queue (tenant_id, requested_at);
CREATE INDEX audit_log_tenant_created_idx ON audit_log (tenant_id, created_at);

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
DECLARE
  t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['engagement_events', 'marketing_campaigns'] LOOP
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
