import { createRequire } from 'module'; const require = createRequire(import.meta.url);
import{a as _,c as O,f as R,i as U,k as C}from"./chunk-MMZNIDR6.js";import{b as D,c as k}from"./chunk-C54GBRSD.js";import{a as l,b as T}from"./chunk-55LD7SBG.js";import{spawn as Y}from"node:child_process";var H=1024*1024;function K(e,n){for(;n>H&&e.length>1;)n-=e.shift().length;return{chunks:e,total:n}}function m(e){if(e!==void 0)try{process.kill(-e,"SIGKILL")}catch{}}function re(e,n){let t=performance.now();return new Promise(a=>{let r=[],o=0,u=!1,i=Y("sh",["-c",e.command],{cwd:e.cwd,env:{...n.env,FORCE_COLOR:"0",NO_COLOR:"1",CI:"true"},stdio:["ignore","pipe","pipe"],detached:!0}),s=E=>{r.push(E),o+=E.length,{chunks:r,total:o}=K(r,o)};i.stdout.on("data",s),i.stderr.on("data",s);let d=setTimeout(()=>{u=!0,m(i.pid)},e.timeoutSeconds*1e3),p=()=>m(i.pid);n.signal?.addEventListener("abort",p,{once:!0});let w=(E,g)=>{clearTimeout(d),n.signal?.removeEventListener("abort",p);let B=Buffer.concat(r).toString("utf8"),P=u?"timeout":g?"error":E===0?"pass":"fail";a({name:e.name,status:P,durationMs:Math.round(performance.now()-t),exitCode:E,output:B,command:e.command,detail:u?`timed out after ${e.timeoutSeconds} s (process tree killed)`:g??(E===0?void 0:`\`${e.command}\` exited with ${E??"a signal"}`)})};i.once("error",E=>w(null,`could not start \`${e.command}\`: ${E.message}`)),i.once("exit",()=>m(i.pid)),i.once("close",E=>w(E))})}function A(e,n){return e.split(/\r?\n/).filter(t=>t.trim()!=="").slice(-n)}var X="<!-- levqor-checks -->",W={pass:"\u2705 pass",fail:"\u274C fail",timeout:"\u23F1\uFE0F timeout",error:"\u{1F4A5} error"};function L(e){return e.replace(/\|/g,"\\|").replace(/</g,"&lt;").replace(/>/g,"&gt;").replace(/\r?\n/g,"<br>")}function Q(e){return`${(e/1e3).toFixed(1)} s`}function f(e,n={}){let t=n.tailLines??5,a=e.result==="pass"?`\u2705 Levqor safety checks: ${e.passed}/${e.total} passed`:`\u274C Levqor safety checks: ${e.passed}/${e.total} passed \u2014 all ${e.total}/${e.total} must pass before deployment`,r=e.checks.map(i=>{let s=A(i.output,t).map(p=>p.length>200?`${p.slice(0,199)}\u2026`:p),d=[i.detail,...i.status==="pass"?s.slice(-2):s].filter(Boolean).join(`
`);return{name:i.name,status:W[i.status],duration:Q(i.durationMs),lastLines:d}}),o=e.gate,u=o&&(o.lines.length>0||o.diffStat)?{lines:o.lines,diffStat:o.diffStat,approval:o.approval}:void 0;return{headline:a,rows:r,gate:u,warnings:o?.warnings??[],annotated:e.annotations.length}}function j(e,n={}){let t=f(e,n),a=t.rows.map(o=>`| ${o.name} | ${o.status} | ${o.duration} | ${o.lastLines?`<code>${L(o.lastLines)}</code>`:""} |`),r=[`### ${t.headline}`,"","| Check | Status | Duration | Last lines |","| --- | --- | --- | --- |",...a];if(t.warnings.length>0&&r.push("",...t.warnings.map(o=>`> \u26A0\uFE0F ${L(o)}`)),t.gate){r.push("","#### Critical files","",...t.gate.lines.map(u=>`- ${L(u)}`)),t.gate.diffStat&&r.push("","```",t.gate.diffStat.replace(/```/g,"'''"),"```");let o=t.gate.approval;o&&r.push("",`Approval: **${o.state}**${o.by?` by ${L(o.by)}`:""} \u2014 ${L(o.detail)}`)}return t.annotated>0&&r.push("",`${t.annotated} problem(s) annotated on the files.`),`${r.join(`
`)}
`}function ie(e,n){return`${X}
${j(e,{tailLines:3})}${n?`
[Workflow run](${n})
`:""}`}function de(e){return JSON.stringify({passed:`${e.passed}/${e.total}`,result:e.result,duration_ms:e.durationMs,checks:e.checks.map(n=>({name:n.name,status:n.status,duration_ms:n.durationMs,exit_code:n.exitCode,detail:n.detail??null,command:n.command??null,tail:A(n.output,20)})),annotations:e.annotations,gate:e.gate?{mode:e.gate.mode,passed:e.gate.passed,detail:e.gate.detail,changes:e.gate.changes,approval:e.gate.approval??null}:null})}import{existsSync as z}from"node:fs";function v(e,n){if(!e.DATABASE_URL){let a=`embedded PGlite at ${e.LEVQOR_DATA_DIR}`;return n?.socket?.role==="client"?`${a} through levqor serve (${n.socket.path})`:n?.socket?.role==="server"?`${a}, shared on ${n.socket.path}`:a}let t=new URL(e.DATABASE_URL);return`Postgres at ${t.hostname}:${t.port||5432}${t.pathname}`}import{createHash as G}from"node:crypto";var b=0x6c6576716f72;function x(e){return G("sha256").update(e).digest("hex")}function N(e){return`${String(e.id).padStart(4,"0")}_${e.name}`}async function y(e,n){return e.session(async t=>{await t.query("SELECT pg_advisory_lock($1)",[b]);try{return await V(t,n)}finally{await t.query("SELECT pg_advisory_unlock($1)",[b])}})}async function V(e,n){await e.exec(`CREATE TABLE IF NOT EXISTS levqor_migrations (
    id integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at double precision NOT NULL DEFAULT extract(epoch FROM now())
  )`);let{rows:t}=await e.query("SELECT id, name, checksum FROM levqor_migrations ORDER BY id"),a=new Map(n.map(s=>[s.id,s])),r=[];for(let s of t){let d=a.get(s.id);d?x(d.sql)!==s.checksum&&r.push(`${N(d)} was edited after it was applied (checksum differs)`):r.push(`${N(s)} is applied but unknown to this version of Levqor (is the database newer than the code?)`)}if(r.length>0)throw new l("migration_drift",`refusing to migrate: ${r.join("; ")}. Migrations are forward-only: add a new file instead.`,r);let o=new Set(t.map(s=>s.id)),u=[];for(let s of[...n].sort((d,p)=>d.id-p.id))if(!o.has(s.id)){await e.exec("BEGIN");try{await e.exec(s.sql),await e.query("INSERT INTO levqor_migrations (id, name, checksum) VALUES ($1, $2, $3)",[s.id,s.name,x(s.sql)]),await e.exec("COMMIT")}catch(d){throw await e.exec("ROLLBACK"),new l("migration_drift",`migration ${N(s)} failed: ${d.message}`,[],{cause:d})}u.push(N(s))}let i=Math.max(0,...n.map(s=>s.id));return{applied:u,current:i}}var I=[{id:1,name:"init",sql:`-- Levqor core schema. Times are epoch seconds (double precision) so the operations
-- guide's maintenance SQL runs verbatim. Every tenant row carries tenant_id.

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  timezone    text NOT NULL DEFAULT 'UTC',
  created_at  double precision NOT NULL DEFAULT extract(epoch FROM now())
);

CREATE TABLE api_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name        text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  scopes      text[] NOT NULL DEFAULT '{}',
  created_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  revoked_at  double precision,
  UNIQUE (tenant_id, name)
);

CREATE TABLE workflows (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name             text NOT NULL,
  description      text,
  steps            jsonb NOT NULL,
  impact_class     text CHECK (impact_class IN ('A', 'B', 'C')),
  max_run_attempts integer NOT NULL DEFAULT 1 CHECK (max_run_attempts BETWEEN 1 AND 10),
  is_active        boolean NOT NULL DEFAULT true,
  schedule_config  jsonb NOT NULL DEFAULT '{"enabled": false}',
  last_run_at      double precision,
  next_run_at      double precision,
  created_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  UNIQUE (tenant_id, name)
);

-- The due scan reads only active, enabled workflows, oldest slot first.
CREATE INDEX workflows_due_idx ON workflows (next_run_at)
  WHERE is_active AND (schedule_config ->> 'enabled') = 'true';

CREATE TABLE workflow_runs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  workflow_id      uuid NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  status           text NOT NULL CHECK (status IN
                     ('queued', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled')),
  trigger          text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'api')),
  scheduled_for    double precision,
  started_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  finished_at      double precision,
  attempt          integer NOT NULL DEFAULT 1,
  step_index       integer NOT NULL DEFAULT 0,
  context          jsonb NOT NULL DEFAULT '{}',
  error            text,
  lease_owner      text,
  lease_expires_at double precision,
  -- The last guard of exactly-once: one run per workflow slot (manual runs have no slot).
  UNIQUE (workflow_id, scheduled_for)
);

CREATE INDEX workflow_runs_workflow_idx ON workflow_runs (workflow_id, started_at DESC);
CREATE INDEX workflow_runs_started_idx ON workflow_runs (started_at);
CREATE INDEX workflow_runs_active_idx ON workflow_runs (status, lease_expires_at)
  WHERE status IN ('queued', 'running', 'waiting_approval');
-- The overlap check: is a run of this workflow still going?
CREATE INDEX workflow_runs_active_by_workflow_idx ON workflow_runs (workflow_id)
  WHERE status IN ('queued', 'running', 'waiting_approval');

CREATE TABLE workflow_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid NOT NULL,
  run_id       uuid REFERENCES workflow_runs(id) ON DELETE CASCADE,
  workflow_id  uuid,
  type         text NOT NULL,
  step_index   integer,
  payload      jsonb NOT NULL DEFAULT '{}',
  created_at   double precision NOT NULL DEFAULT extract(epoch FROM now())
);

CREATE INDEX workflow_events_run_idx ON workflow_events (run_id, id);
CREATE INDEX workflow_events_created_idx ON workflow_events (created_at);

CREATE TABLE approval_queue (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  run_id                uuid REFERENCES workflow_runs(id) ON DELETE SET NULL,
  workflow_id           uuid REFERENCES workflows(id) ON DELETE SET NULL,
  step_index            integer,
  action_type           text NOT NULL,
  impact_class          text NOT NULL CHECK (impact_class IN ('A', 'B', 'C')),
  summary               text NOT NULL,
  payload               jsonb NOT NULL,
  payload_hash          text NOT NULL,
  status                text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  requested_by          text NOT NULL,
  requested_at          double precision NOT NULL DEFAULT extract(epoch FROM now()),
  expires_at            double precision NOT NULL,
  processed_at          double precision,
  processed_by          text,
  reason                text,
  execution_started_at  double precision,
  execution_finished_at double precision,
  CHECK ((status = 'pending') = (processed_at IS NULL))
);

CREATE INDEX approval_queue_tenant_status_idx ON approval_queue (tenant_id, status, requested_at, id);
CREATE INDEX approval_queue_processed_idx ON approval_queue (processed_at) WHERE status <> 'pending';
-- A run waits on at most one open request per step.
CREATE UNIQUE INDEX approval_queue_one_pending_idx ON approval_queue (run_id, step_index) WHERE status = 'pending';

CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL,
  actor       text NOT NULL,
  action      text NOT NULL,
  subject     text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}',
  created_at  double precision NOT NULL DEFAULT extract(epoch FROM now())
);

CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- One row per scheduler process: its last tick, for \`levqor doctor\` and health.
CREATE TABLE scheduler_instances (
  id            text PRIMARY KEY,
  hostname      text NOT NULL,
  pid           integer NOT NULL,
  started_at    double precision NOT NULL,
  last_tick_at  double precision NOT NULL,
  stopped_at    double precision,
  last_summary  jsonb NOT NULL DEFAULT '{}'
);
`},{id:2,name:"approval_rules",sql:`-- Approval rules, quorum votes, a persisted feed of approval events, token bookkeeping,
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
`},{id:3,name:"health",sql:`-- Health: request buckets shared by every API replica, the shared scaling decision,
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
`},{id:4,name:"cleanup_index",sql:`-- Retention cleanup deletes runs in batches; the foreign key approval_queue.run_id
-- (ON DELETE SET NULL) then looks up each deleted run in approval_queue. The only index on
-- run_id was partial (pending rows), so every deleted run scanned the whole table: a
-- 5,000-run batch took 1.6 s with 1,800 approvals and grew with the queue. With this index
-- the same batch takes ~100 ms (bench/RESULTS.md, "Cleanup").
CREATE INDEX approval_queue_run_idx ON approval_queue (run_id) WHERE run_id IS NOT NULL;
`},{id:5,name:"engagement",sql:`-- Reports, analytics and the auto-marketing cycle: engagement events sent by a tenant's
-- product (POST /api/events), the campaigns the marketing cycle proposed (one per tenant,
-- campaign and week, so a second cycle in the same week proposes nothing twice), and the
-- indexes the weekly report and analytics read by (tenant, time range).

CREATE TABLE engagement_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     text NOT NULL,
  event       text NOT NULL,
  properties  jsonb NOT NULL DEFAULT '{}',
  created_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  -- Set by the sender to make a retried batch harmless: one row per (tenant, event_id).
  event_id    text
);

CREATE INDEX engagement_events_tenant_time_idx ON engagement_events (tenant_id, created_at);
CREATE INDEX engagement_events_tenant_user_idx ON engagement_events (tenant_id, user_id, created_at);
CREATE UNIQUE INDEX engagement_events_dedup_idx ON engagement_events (tenant_id, event_id) WHERE event_id IS NOT NULL;

CREATE TABLE marketing_campaigns (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  campaign     text NOT NULL,
  week         text NOT NULL,
  workflow_id  uuid REFERENCES workflows(id) ON DELETE SET NULL,
  run_id       uuid REFERENCES workflow_runs(id) ON DELETE SET NULL,
  audience     integer NOT NULL,
  evidence     jsonb NOT NULL DEFAULT '{}',
  created_at   double precision NOT NULL DEFAULT extract(epoch FROM now()),
  PRIMARY KEY (tenant_id, campaign, week)
);

-- Weekly report and analytics: one tenant's runs, requests and audit entries in a time range.
CREATE INDEX workflow_runs_tenant_started_idx ON workflow_runs (tenant_id, started_at);
CREATE INDEX approval_queue_tenant_requested_idx ON approval_queue (tenant_id, requested_at);
CREATE INDEX audit_log_tenant_created_idx ON audit_log (tenant_id, created_at);

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
DECLARE
  t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['engagement_events', 'marketing_campaigns'] LOOP
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
`},{id:6,name:"slack",sql:`-- Slack app: which workspace maps to which tenant and where it posts; the approval message
-- each request got; retried-delivery dedup; the shared cursor over the approval event feed.

CREATE TABLE slack_settings (
  tenant_id          uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  team_id            text NOT NULL UNIQUE,        -- the Slack workspace that maps to this tenant
  approvals_channel  text NOT NULL,               -- Class C requests are posted here
  reports_channel    text,                        -- weekly report + daily health summary
  alerts_channel     text,                        -- alerts
  internal_channels  text[] NOT NULL DEFAULT '{}',-- slack_message step is Class B for these
  updated_at         double precision NOT NULL DEFAULT extract(epoch FROM now())
);

-- The message a request was posted as. slack_rendered is the state that message shows
-- ("pending:0", "approved:1" \u2026): a bot process updates it only when the request's state
-- differs, under an advisory lock, so each change reaches Slack once however many bots run.
ALTER TABLE approval_queue
  ADD COLUMN slack_channel text,
  ADD COLUMN slack_ts text,
  ADD COLUMN slack_rendered text,
  ADD COLUMN slack_reminder_ts text;

-- What the reconciliation sweep looks for: requests whose Slack message is missing or stale.
CREATE INDEX approval_queue_slack_pending_idx ON approval_queue (tenant_id) WHERE status = 'pending' AND slack_ts IS NULL;

-- Every delivery a bot accepted, by a hash of its payload: a retried delivery
-- (X-Slack-Retry-Num) of one already seen is acknowledged and dropped, across processes.
CREATE TABLE slack_deliveries (
  key          text PRIMARY KEY,
  team_id      text,
  kind         text NOT NULL,
  received_at  double precision NOT NULL DEFAULT extract(epoch FROM now())
);

CREATE INDEX slack_deliveries_received_idx ON slack_deliveries (received_at);

-- How far the bots have read the approval event feed (approval_events.id), shared by all of them.
CREATE TABLE slack_feed_cursor (
  name           text PRIMARY KEY,
  last_event_id  bigint NOT NULL DEFAULT 0,
  updated_at     double precision NOT NULL DEFAULT extract(epoch FROM now())
);
`},{id:7,name:"slack_posts",sql:`-- Scheduled Slack posts: when each tenant's weekly report and daily health summary go out,
-- and a ledger that lets exactly one bot process make each post.

ALTER TABLE slack_settings
  -- ISO weekday of the weekly report (1 = Monday) and local times (tenant time zone); NULL time = off.
  ADD COLUMN report_weekday integer NOT NULL DEFAULT 1 CHECK (report_weekday BETWEEN 1 AND 7),
  ADD COLUMN report_time text DEFAULT '09:00' CHECK (report_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  ADD COLUMN health_time text DEFAULT '09:00' CHECK (health_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$');

-- One row per post that should happen once: (tenant, kind, period) is claimed by the first bot
-- to insert it. A claim still 'posting' after two minutes belongs to a bot that died and may be
-- taken over; a failed post deletes its claim so the next sweep tries again.
CREATE TABLE slack_posts (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('weekly_report', 'health_summary', 'alert')),
  period      text NOT NULL,               -- '2026-W47', '2026-11-28', '<alert id>:firing'
  channel     text NOT NULL,
  status      text NOT NULL DEFAULT 'posting' CHECK (status IN ('posting', 'posted')),
  claimed_by  text NOT NULL,
  claimed_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  ts          text,
  posted_at   double precision,
  PRIMARY KEY (tenant_id, kind, period)
);
`},{id:8,name:"slack_failures",sql:`-- Failed Slack posts back off instead of being tried again on every sweep. A refusal that no
-- retry changes (channel_not_found, not_in_channel, invalid_auth \u2026) is recorded with Slack's
-- code, so \`levqor slack show\` can say what to fix.

-- Scheduled posts: 'retry' waits until retry_at; 'failed' (a permanent refusal) is tried again
-- only when the tenant's channel for it changes.
ALTER TABLE slack_posts DROP CONSTRAINT slack_posts_status_check;
ALTER TABLE slack_posts ADD CONSTRAINT slack_posts_status_check CHECK (status IN ('posting', 'posted', 'retry', 'failed'));
ALTER TABLE slack_posts
  ADD COLUMN attempts  integer NOT NULL DEFAULT 0,      -- failures so far
  ADD COLUMN retry_at  double precision,                -- status 'retry': not before
  ADD COLUMN error     text;                            -- the last failure (Slack's code when Slack refused)

-- Approval messages: consecutive failed Slack calls for the request, when to try again, why.
-- Cleared by the next call that works, and by \`levqor slack configure\` for the tenant.
ALTER TABLE approval_queue
  ADD COLUMN slack_attempts  integer NOT NULL DEFAULT 0,
  ADD COLUMN slack_retry_at  double precision,
  ADD COLUMN slack_error     text;
`},{id:9,name:"foreign_key_indexes",sql:`-- An index for every foreign key that a delete follows. Without one, each approval, run or
-- workflow deleted (retention cleanup, removing a workflow) scans the referencing table:
-- bench:cleanup measured the approval_events cascade at 100 of 108 ms of deleting 800 requests.
CREATE INDEX approval_events_approval_idx ON approval_events (approval_id);
CREATE INDEX approval_queue_workflow_idx ON approval_queue (workflow_id) WHERE workflow_id IS NOT NULL;
CREATE INDEX marketing_campaigns_run_idx ON marketing_campaigns (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX marketing_campaigns_workflow_idx ON marketing_campaigns (workflow_id) WHERE workflow_id IS NOT NULL;
`},{id:10,name:"web_sessions",sql:`-- Browser sessions for /dashboard and /console: the cookie holds a random secret (only its
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
`},{id:11,name:"run_timeline",sql:`-- A run's own timeline lives on its row (issue 13). The events of a run's Class A steps
-- (run_started, step_started, step_finished, run_finished) are appended to \`timeline\` in the
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
--   workflow_runs_started_idx                guide's DELETE \u2026 WHERE started_at <, cleanup batches, /metrics, health windows
--   workflow_runs_finished_idx (partial)     health summary's finished-in-the-last-hour/day counts
--   workflow_runs_active_idx (partial)       lease recovery, claimQueuedRuns
--   workflow_runs_active_by_workflow_idx     the claim's overlap check (busy), doctor
-- Kept on workflow_events: run_idx (getRunEvents), created_idx (guide's DELETE, cleanup);
-- its run_id foreign key stays: its ON DELETE CASCADE makes the guide's DELETE of old runs
-- take their events along, and Class A runs no longer insert events, so it costs them nothing.
`}];var J="memory://";function Z(e){let n=e?.code??e?.cause?.code;return n==="ENOENT"||n==="ECONNREFUSED"}async function S(e,n){let t=D(e.LEVQOR_DATA_DIR);if(!z(t))return;let a=(await import("./pg-VKQH4T6P.js")).createPgDb({connectionString:k(e.LEVQOR_DATA_DIR),poolMax:e.LEVQOR_DB_POOL_MAX,connectTimeoutMs:e.LEVQOR_DB_CONNECT_TIMEOUT_MS,onBackgroundError:n.onBackgroundError,applicationName:n.applicationName});try{await a.query("SELECT 1")}catch(r){if(await a.close().catch(()=>{}),Z(r))return;throw new l("db_unavailable",`cannot use the embedded database through ${t}: ${T(r)}`,[],{cause:r})}return{...a,kind:"pglite",socket:{role:"client",path:t}}}function F(e){return!e.DATABASE_URL&&e.LEVQOR_DB_SOCKET!==!1&&e.LEVQOR_DATA_DIR!==J}async function ee(e,n){let t=F(e)&&!n.share;if(t){let r=await S(e,n);if(r)return r}let{createPgliteDb:a}=await import("./pglite-33UQV7LT.js");try{return await a(e.LEVQOR_DATA_DIR)}catch(r){if(t&&r instanceof l&&r.code==="db_locked"){let o=await S(e,n);if(o)return o}throw r}}async function q(e,n={}){let t=e.DATABASE_URL?(await import("./pg-VKQH4T6P.js")).createPgDb({connectionString:e.DATABASE_URL,poolMax:e.LEVQOR_DB_POOL_MAX,connectTimeoutMs:e.LEVQOR_DB_CONNECT_TIMEOUT_MS,onBackgroundError:n.onBackgroundError,applicationName:n.applicationName}):await ee(e,n);try{await t.query("SELECT 1"),n.migrate!==!1&&await y(t,I),n.share&&F(e)&&t.share&&await t.share({onError:n.onBackgroundError})}catch(a){throw await t.close().catch(()=>{}),a instanceof l?a:new l("db_unavailable",`cannot use ${v(e)}: ${T(a)}`,[],{cause:a})}return t}async function ne(e){let{rows:n}=await e.query("SELECT id, name, timezone, created_at FROM tenants ORDER BY name");return n}async function te(e,n){let t=/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(n),{rows:a}=await e.query(`SELECT id, name, timezone, created_at FROM tenants WHERE ${t?"id = $1::uuid":"name = $1"}`,[n]);return a[0]}async function M(e,n){if(n){let a=await te(e,n);if(!a)throw new l("not_found",`tenant "${n}" not found (levqor tenant list shows them)`);return a}let t=await ne(e);if(t.length===1&&t[0])return t[0];throw t.length===0?new l("not_found","no tenant exists yet: create one with `levqor tenant create NAME`"):new l("bad_input",`several tenants exist (${t.map(a=>a.name).join(", ")}): pass --tenant NAME or set LEVQOR_TENANT`)}async function Ce(e){if(!/^postgres(ql)?:\/\//.test(e)||!URL.canParse(e))throw C(U.databaseUrl,"must be a postgres:// or postgresql:// URL");return q({DATABASE_URL:e,LEVQOR_DATA_DIR:"",LEVQOR_DB_POOL_MAX:4,LEVQOR_DB_CONNECT_TIMEOUT_MS:1e4},{applicationName:"levqor-action"})}async function De(e,n){return M(e,n||void 0)}function h(e){return e.replace(/[&<>"']/g,n=>`&#${n.charCodeAt(0)};`)}function c(e){return h(e).replace(/\r?\n/g,"<br>")}async function Ie(){try{await _.write()}catch(e){O(`no job summary file (${e instanceof Error?e.message:String(e)}): printing it`),R(_.stringify()),_.emptyBuffer()}}function Se(e){let n=f(e),t=_.addHeading(c(n.headline),3);t.addTable([["Check","Status","Duration","Last lines"].map(a=>({data:a,header:!0})),...n.rows.map(a=>[c(a.name),c(a.status),c(a.duration),a.lastLines?`<code>${c(a.lastLines)}</code>`:""])]);for(let a of n.warnings)t.addQuote(`\u26A0\uFE0F ${c(a)}`);if(n.gate){t.addHeading("Critical files",4).addList(n.gate.lines.map(c)),n.gate.diffStat&&t.addCodeBlock(h(n.gate.diffStat));let a=n.gate.approval;a&&t.addRaw(`<p>Approval: <strong>${c(a.state)}</strong>${a.by?` by ${c(a.by)}`:""} \u2014 ${c(a.detail)}</p>`,!0)}n.annotated>0&&t.addRaw(`<p>${n.annotated} problem(s) annotated on the files.</p>`,!0)}function $(e){return Array.isArray(e)?`[${e.map($).join(",")}]`:e!==null&&typeof e=="object"?`{${Object.entries(e).filter(([,t])=>t!==void 0).sort(([t],[a])=>t<a?-1:t>a?1:0).map(([t,a])=>`${JSON.stringify(t)}:${$(a)}`).join(",")}}`:JSON.stringify(e)??"null"}export{re as a,A as b,$ as c,X as d,ie as e,de as f,te as g,Ce as h,De as i,h as j,Ie as k,Se as l};
