-- Browser sessions for /dashboard and /console: the cookie holds a random secret (only its
-- hash is stored), so a session can be revoked on its own, and revoking the API token it was
-- opened with ends it too (lookups join api_tokens). csrf is the per-session form token.
CREATE TABLE web_sessions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  token_id     uuid NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
  secret_hash  text NOT NULL UNIQUE,
  csrf         text NOT NULL,
  created_at   double precision NOT NULL DEFAULT extract(epoch FROM now()),
  expires_at   double precision NOT NULL,
  revoked_at   double precision
);
CREATE INDEX web_sessions_token_idx ON web_sessions (token_id);
CREATE INDEX web_sessions_tenant_idx ON web_sessions (tenant_id);
