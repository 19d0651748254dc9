-- Approval rules, quorum votes, a persisted feed of approval events, token bookkeeping,
-- and row-level security for a non-owner application role.

CREATE TABLE approval_policies (
  tenant_id            uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  -- Identities allowed to decide ("token:NAME", "slack:U123", "github:login", "cli:user") or
  -- "group:NAME" entries; empty means any identity holding the approvals:decide scope.
  approvers            text[] NOT NULL DEFAULT '{}',
  groups               jsonb NOT NULL DEFAULT '{}',
  required_approvals   integer NOT NULL DEFAULT 1 CHECK (required_approvals BETWEEN 1 AND 10),
  allow_self_approval  boolean NOT NULL DEFAULT false,
  ttl_seconds          integer NOT NULL DEFAULT 86400 CHECK (ttl_seconds BETWEEN 60 AND 7776000),
  updated_at           double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_by           text
);

ALTER TABLE approval_queue
  ADD COLUMN required_approvals integer NOT NULL DEFAULT 1,
  ADD COLUMN approvals_count integer NOT NULL DEFAULT 0,
  ADD COLUMN reminded_at double precision,
  ADD COLUMN previous_id uuid REFERENCES approval_queue(id) ON DELETE SET NULL,
  ADD COLUMN source text NOT NULL DEFAULT 'workflow';

CREATE INDEX approval_queue_reminder_idx ON approval_queue (expires_at) WHERE status = 'pending' AND reminded_at IS NULL;

-- One vote per identity per request: the quorum counts distinct approvers.
CREATE TABLE approval_votes (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid NOT NULL,
  approval_id  uuid NOT NULL REFERENCES approval_queue(id) ON DELETE CASCADE,
  actor        text NOT NULL,
  channel      text NOT NULL,
  vote         text NOT NULL CHECK (vote IN ('approve', 'reject')),
  reason       text,
  created_at   double precision NOT NULL DEFAULT extract(epoch FROM now()),
  UNIQUE (approval_id, actor)
);

-- What NOTIFY announces, kept so that a listener that was down catches up from its last id.
CREATE TABLE approval_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid NOT NULL,
  approval_id  uuid NOT NULL REFERENCES approval_queue(id) ON DELETE CASCADE,
  type         text NOT NULL CHECK (type IN ('requested', 'vote', 'approved', 'rejected', 'expired', 'reminder')),
  payload      jsonb NOT NULL DEFAULT '{}',
  created_at   double precision NOT NULL DEFAULT extract(epoch FROM now())
);

CREATE INDEX approval_events_tenant_idx ON approval_events (tenant_id, id);

ALTER TABLE api_tokens ADD COLUMN last_used_at double precision;

-- Row-level security: a role "levqor_app" (give it to the API's login role) sees only the
-- tenant named by the setting levqor.tenant_id; other roles (the owner, the scheduler) see all.
-- "Member" here means inheriting its privileges (USAGE), exactly when the tenant policy applies.
-- Skipped with a notice where the migrating role may not create roles.
DO $$
DECLARE
  t text;
BEGIN
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
      CREATE ROLE levqor_app NOLOGIN;
    END IF;
  EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL; -- created by a concurrent migration of another database
    WHEN insufficient_privilege THEN
      RAISE NOTICE 'levqor: no permission to create role levqor_app; row-level security policies not installed';
      RETURN;
  END;
  FOREACH t IN ARRAY ARRAY['api_tokens', 'workflows', 'workflow_runs', 'workflow_events', 'approval_queue',
                           'approval_policies', 'approval_votes', 'approval_events', 'audit_log'] LOOP
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
  GRANT SELECT ON tenants TO levqor_app;
END
$$;
