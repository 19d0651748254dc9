-- Email decision links: one-time, expiring, bound to the request, the person (an email:
-- identity) and the payload hash it was sent for. Only the link secret's hash is stored. The
-- link opens a confirmation page; a GET never decides, so mail scanners cannot approve.
CREATE TABLE decision_links (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  approval_id   uuid NOT NULL REFERENCES approval_queue(id) ON DELETE CASCADE,
  identity      text NOT NULL,
  payload_hash  text NOT NULL,
  token_hash    text NOT NULL UNIQUE,
  expires_at    double precision NOT NULL,
  used_at       double precision,
  created_at    double precision NOT NULL DEFAULT extract(epoch FROM now())
);
CREATE INDEX decision_links_approval_idx ON decision_links (approval_id);
CREATE INDEX decision_links_tenant_idx ON decision_links (tenant_id);

-- How far the email notifier has read the approval event feed (one row; locked while it works).
CREATE TABLE notify_cursors (
  name           text PRIMARY KEY,
  last_event_id  bigint NOT NULL DEFAULT 0
);

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  ALTER TABLE decision_links ENABLE ROW LEVEL SECURITY;
  ALTER TABLE decision_links FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON decision_links TO levqor_app
    USING (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid);
  CREATE POLICY service_access ON decision_links USING (NOT pg_has_role(current_user, 'levqor_app', 'USAGE'));
  GRANT SELECT, INSERT, UPDATE, DELETE ON decision_links TO levqor_app;
END
$$;
