-- Claims per batch (issue 28). A tick's claim advances the due workflows' schedules and writes
-- one row here for the batch: its owner, its lease, and the (workflow, slot) pairs it took, as
-- parallel arrays (pair i is run_ids[i], tenant_ids[i], workflow_ids[i], slots[i]). A run that
-- finishes within its batch is inserted once, already finished, by the batch's settle
-- statement, which deletes this row in the same statement; a run that parks, waits, retries
-- or lasts is written as `running` first, as before. UNIQUE(workflow_id, scheduled_for) on
-- workflow_runs stays the last guard of exactly-once: every insert of a claimed pair (settle,
-- a run written early, lease recovery) is ON CONFLICT DO NOTHING.
-- A replica killed mid-batch leaves its row; once the lease runs out, lease recovery turns
-- each pair that has no run yet into one (queued for another attempt, or failed).
-- No foreign keys: a claim row lives for one batch, and a workflow deleted meanwhile simply has
-- no run recorded for its pair.
CREATE TABLE scheduler_claims (
  id               uuid PRIMARY KEY,
  owner            text NOT NULL,
  claimed_at       double precision NOT NULL,
  lease_expires_at double precision NOT NULL,
  run_ids          uuid[] NOT NULL,
  tenant_ids       uuid[] NOT NULL,
  workflow_ids     uuid[] NOT NULL,
  slots            double precision[] NOT NULL,
  CHECK (cardinality(run_ids) = cardinality(workflow_ids) AND cardinality(run_ids) = cardinality(tenant_ids)
         AND cardinality(run_ids) = cardinality(slots))
);

-- Lease recovery: the claims whose lease ran out, oldest first.
CREATE INDEX scheduler_claims_lease_idx ON scheduler_claims (lease_expires_at);

-- In-flight runs are listed from claim rows (runs list, /api/runs, health): the API's role
-- reads only the pairs of its tenant.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  ALTER TABLE scheduler_claims ENABLE ROW LEVEL SECURITY;
  ALTER TABLE scheduler_claims FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON scheduler_claims TO levqor_app
    USING (nullif(current_setting('levqor.tenant_id', true), '')::uuid = ANY (tenant_ids));
  CREATE POLICY service_access ON scheduler_claims USING (NOT pg_has_role(current_user, 'levqor_app', 'USAGE'));
  GRANT SELECT ON scheduler_claims TO levqor_app;
END
$$;
