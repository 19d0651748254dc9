-- People: who decides, across channels. A person belongs to one tenant and has a role there;
-- the channel identities they act through (slack:U…, github:login, oidc:subject, token:name,
-- cli:user, email:address) are linked to them, each identity to at most one person per tenant.
CREATE TABLE people (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  handle        text NOT NULL CHECK (handle ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  email         text CHECK (email IS NULL OR email = lower(email)),
  role          text NOT NULL DEFAULT 'approver' CHECK (role IN ('viewer', 'approver', 'admin')),
  created_at    double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_at    double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_by    text,
  UNIQUE (tenant_id, handle)
);
CREATE UNIQUE INDEX people_email_idx ON people (tenant_id, email) WHERE email IS NOT NULL;

CREATE TABLE person_identities (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  person_id      uuid NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  identity       text NOT NULL,
  -- For slack: identities, the workspace the user belongs to (checked on every click).
  slack_team_id  text,
  linked_by      text NOT NULL,
  linked_at      double precision NOT NULL DEFAULT extract(epoch FROM now()),
  UNIQUE (tenant_id, identity)
);
CREATE INDEX person_identities_person_idx ON person_identities (person_id);

-- Per-tenant directory settings: link Slack users to people by verified email (users.info).
CREATE TABLE people_settings (
  tenant_id      uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  slack_autolink boolean NOT NULL DEFAULT false,
  updated_at     double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_by     text
);

-- A vote records the person behind the identity (their handle, kept when the person is
-- removed); the quorum counts distinct people, so one person's second vote through another
-- channel is refused by the database too.
ALTER TABLE approval_votes ADD COLUMN person text;
CREATE UNIQUE INDEX approval_votes_person_idx ON approval_votes (approval_id, person) WHERE person IS NOT NULL;

-- A console session belongs to a token (token sign-in) or to a person (OpenID Connect sign-in);
-- removing the person ends their sessions.
ALTER TABLE web_sessions ALTER COLUMN token_id DROP NOT NULL;
ALTER TABLE web_sessions ADD COLUMN person_id uuid REFERENCES people(id) ON DELETE CASCADE;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_owner CHECK (token_id IS NOT NULL OR person_id IS NOT NULL);
CREATE INDEX web_sessions_person_idx ON web_sessions (person_id);

DO $$
DECLARE
  t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['people', 'person_identities', 'people_settings'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I TO levqor_app
      USING (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid)
      WITH CHECK (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid)$p$, t);
    EXECUTE format($p$CREATE POLICY service_access ON %I USING (NOT pg_has_role(current_user, 'levqor_app', 'USAGE'))$p$, t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO levqor_app', t);
  END LOOP;
END
$$;
