-- Secrets (issue 22): the `db` provider's encrypted values, per tenant. Steps carry
-- `{{secrets.NAME}}`; the value is resolved in memory at execution only.
-- Envelope encryption (src/secrets/crypto.ts): `ciphertext` is the value under a random data
-- key (AES-256-GCM), `wrapped_key` that data key under the key-encryption key `key_id` names,
-- so `levqor secret rotate-key` re-wraps data keys without touching values. Text (base64),
-- never the value, never the key.
CREATE TABLE secrets (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (name ~ '^[A-Z][A-Z0-9_]{0,63}$'),
  ciphertext   text NOT NULL,
  wrapped_key  text NOT NULL,
  key_id       text NOT NULL,
  version      integer NOT NULL DEFAULT 1,
  created_at   double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_at   double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_by   text,
  PRIMARY KEY (tenant_id, name)
);
-- rotate-key finds the rows still wrapped by an older key.
CREATE INDEX secrets_key_idx ON secrets (key_id);

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
  ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON secrets TO levqor_app
    USING (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid);
  CREATE POLICY service_access ON secrets USING (NOT pg_has_role(current_user, 'levqor_app', 'USAGE'));
  GRANT SELECT, INSERT, UPDATE, DELETE ON secrets TO levqor_app;
END
$$;
