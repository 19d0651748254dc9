-- Outbound approval webhooks: a tenant's endpoints (Microsoft Teams, Discord, PagerDuty, its own
-- bot) hear every approval event, HMAC-signed with a key kept in the secret store (only its
-- name is here). Each endpoint reads the approval event feed from its own cursor; each event
-- becomes one delivery row, tried with back-off until the endpoint answers 2xx.
CREATE TABLE approval_webhooks (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name             text NOT NULL,
  url              text NOT NULL,
  -- The secret (levqor secret set NAME) whose value signs each body.
  secret_name      text NOT NULL,
  -- Event types sent; empty: all.
  events           text[] NOT NULL DEFAULT '{}',
  -- The last approval_events.id turned into deliveries (starts at the feed's end when created).
  cursor           bigint NOT NULL DEFAULT 0,
  created_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  created_by       text NOT NULL,
  UNIQUE (tenant_id, name)
);

CREATE TABLE webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  webhook_id       uuid NOT NULL REFERENCES approval_webhooks(id) ON DELETE CASCADE,
  event_id         bigint NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  last_status      integer,
  last_error       text,
  created_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  delivered_at     double precision,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_tenant_idx ON webhook_deliveries (tenant_id, status);

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
DECLARE
  t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['approval_webhooks', 'webhook_deliveries'] LOOP
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
