-- Health: request buckets shared by every API replica, the shared scaling decision,
-- alerts that fire and resolve once, and a claim table so daily maintenance runs once.

-- Requests per minute per API process, with a latency histogram (bucket bounds live in
-- src/health/requests.ts); rate and P95 are summed across replicas from these rows.
CREATE TABLE request_buckets (
  minute      bigint NOT NULL,
  instance    text NOT NULL,
  requests    integer NOT NULL DEFAULT 0,
  errors      integer NOT NULL DEFAULT 0,
  latency_hist integer[] NOT NULL,
  PRIMARY KEY (minute, instance)
);

CREATE TABLE scaling_state (
  id          integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  level       text NOT NULL CHECK (level IN ('low', 'normal', 'high', 'critical')),
  changed_at  double precision NOT NULL,
  decided_at  double precision NOT NULL,
  decision    jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE alerts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind         text NOT NULL,
  status       text NOT NULL CHECK (status IN ('firing', 'resolved')),
  message      text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}',
  fired_at     double precision NOT NULL DEFAULT extract(epoch FROM now()),
  resolved_at  double precision,
  delivered_at double precision,
  resolution_delivered_at double precision
);

-- At most one firing alert per kind: replicas evaluating together fire it once.
CREATE UNIQUE INDEX alerts_one_firing_idx ON alerts (kind) WHERE status = 'firing';
CREATE INDEX alerts_recent_idx ON alerts (fired_at DESC);

CREATE TABLE maintenance_log (
  task         text NOT NULL,
  day          date NOT NULL,
  started_at   double precision NOT NULL DEFAULT extract(epoch FROM now()),
  finished_at  double precision,
  result       jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (task, day)
);

-- Error rates read recent runs by start time and status.
CREATE INDEX workflow_runs_finished_idx ON workflow_runs (finished_at) WHERE finished_at IS NOT NULL;

-- A re-request links to the request it repeats, once: the history does not fork.
CREATE UNIQUE INDEX approval_queue_previous_idx ON approval_queue (previous_id) WHERE previous_id IS NOT NULL;

-- Who started a run or last changed a workflow: an approval for a run is requested on their
-- behalf, so they cannot approve it themselves.
ALTER TABLE workflow_runs ADD COLUMN started_by text;
ALTER TABLE workflows ADD COLUMN updated_by text;
