-- A run's own timeline lives on its row (issue 13). The events of a run's Class A steps
-- (run_started, step_started, step_finished, run_finished) are appended to `timeline` in the
-- statement that writes the run anyway (claim, checkpoint, park, finish), so a Class A run
-- writes 3 tuples (run inserted, run finished, schedule advanced) instead of 7.
-- workflow_events keeps what an auditor or operator queries on its own: Class B/C steps,
-- approvals, errors, retries, skipped slots, lease recoveries. src/runs/queries.ts
-- getRunEvents reads both and returns one ordered timeline. Nothing is moved: runs recorded
-- before this migration keep their events in workflow_events and read as before.
-- A constant default: no table rewrite (metadata only on Postgres 11+).
ALTER TABLE workflow_runs ADD COLUMN timeline jsonb NOT NULL DEFAULT '[]'::jsonb;

-- A run's tenant is its workflow's tenant: the workflow foreign key (ON DELETE CASCADE,
-- itself cascaded from tenants through workflows) already removes a deleted tenant's runs.
-- The tenant key checked each run insert again and share-locked the tenant row from every
-- replica's claim at once.
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_tenant_id_fkey;

-- Kept on workflow_runs, each with the query that needs it:
--   workflow_runs_pkey                       getRun, finishRuns, checkpointRun (by id)
--   workflow_id_scheduled_for_key (UNIQUE)   the claim's last guard: one run per slot
--   workflow_runs_workflow_idx               listRuns of one workflow; the workflow FK's cascade
--   workflow_runs_tenant_started_idx         listRuns of a tenant, weekly report, analytics, marketing
--   workflow_runs_started_idx                guide's DELETE … WHERE started_at <, cleanup batches, /metrics, health windows
--   workflow_runs_finished_idx (partial)     health summary's finished-in-the-last-hour/day counts
--   workflow_runs_active_idx (partial)       lease recovery, claimQueuedRuns
--   workflow_runs_active_by_workflow_idx     the claim's overlap check (busy), doctor
-- Kept on workflow_events: run_idx (getRunEvents), created_idx (guide's DELETE, cleanup);
-- its run_id foreign key stays: its ON DELETE CASCADE makes the guide's DELETE of old runs
-- take their events along, and Class A runs no longer insert events, so it costs them nothing.
