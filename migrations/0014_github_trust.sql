-- Keyless requests from GitHub Actions: a workflow's OIDC token is accepted instead of an API
-- token when its claims match a tenant's trust policy (repository, ref, optionally the
-- deployment environment), and then only for the listed action types.
CREATE TABLE github_trust (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  repository    text NOT NULL CHECK (repository = lower(repository)),
  -- An exact ref (refs/heads/main) or a pattern with * (refs/tags/v*).
  ref           text NOT NULL,
  -- NULL: any environment (or none).
  environment   text,
  action_types  text[] NOT NULL CHECK (cardinality(action_types) > 0),
  created_at    double precision NOT NULL DEFAULT extract(epoch FROM now()),
  created_by    text NOT NULL
);
CREATE UNIQUE INDEX github_trust_rule_idx ON github_trust (tenant_id, repository, ref, coalesce(environment, ''));
-- Looked up by the token's repository claim before the tenant is known.
CREATE INDEX github_trust_repository_idx ON github_trust (repository);

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  ALTER TABLE github_trust ENABLE ROW LEVEL SECURITY;
  ALTER TABLE github_trust FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON github_trust TO levqor_app
    USING (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid);
  CREATE POLICY service_access ON github_trust USING (NOT pg_has_role(current_user, 'levqor_app', 'USAGE'));
  GRANT SELECT, INSERT, UPDATE, DELETE ON github_trust TO levqor_app;
END
$$;
