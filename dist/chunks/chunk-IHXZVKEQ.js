import { createRequire } from 'module'; const require = createRequire(import.meta.url);
import{a as g,c as G,f as X,i as Q,k as z}from"./chunk-27ZGM5RE.js";import{b as V,c as J}from"./chunk-VFROMMMS.js";import{a as _,b as x}from"./chunk-55LD7SBG.js";import{spawn as ve}from"node:child_process";var Ue=1024*1024;function be(t,e){for(;e>Ue&&t.length>1;)e-=t.shift().length;return{chunks:t,total:e}}function I(t){if(t!==void 0)try{process.kill(-t,"SIGKILL")}catch{}}function ht(t,e){let n=performance.now();return new Promise(r=>{let i=[],a=0,s=!1,o=ve("sh",["-c",t.command],{cwd:t.cwd,env:{...e.env,FORCE_COLOR:"0",NO_COLOR:"1",CI:"true"},stdio:["ignore","pipe","pipe"],detached:!0}),l=h=>{i.push(h),a+=h.length,{chunks:i,total:a}=be(i,a)};o.stdout.on("data",l),o.stderr.on("data",l);let d=setTimeout(()=>{s=!0,I(o.pid)},t.timeoutSeconds*1e3),u=()=>I(o.pid);e.signal?.addEventListener("abort",u,{once:!0});let c=(h,w)=>{clearTimeout(d),e.signal?.removeEventListener("abort",u);let Ce=Buffer.concat(i).toString("utf8"),De=s?"timeout":w?"error":h===0?"pass":"fail";r({name:t.name,status:De,durationMs:Math.round(performance.now()-n),exitCode:h,output:Ce,command:t.command,detail:s?`timed out after ${t.timeoutSeconds} s (process tree killed)`:w??(h===0?void 0:`\`${t.command}\` exited with ${h??"a signal"}`)})};o.once("error",h=>c(null,`could not start \`${t.command}\`: ${h.message}`)),o.once("exit",()=>I(o.pid)),o.once("close",h=>c(h))})}function M(t,e){return t.split(/\r?\n/).filter(n=>n.trim()!=="").slice(-e)}var ke="<!-- levqor-checks -->",Se={pass:"\u2705 pass",fail:"\u274C fail",timeout:"\u23F1\uFE0F timeout",error:"\u{1F4A5} error"};function R(t){return t.replace(/\|/g,"\\|").replace(/</g,"&lt;").replace(/>/g,"&gt;").replace(/\r?\n/g,"<br>")}function xe(t){return`${(t/1e3).toFixed(1)} s`}function F(t,e={}){let n=e.tailLines??5,r=t.result==="pass"?`\u2705 Levqor safety checks: ${t.passed}/${t.total} passed`:`\u274C Levqor safety checks: ${t.passed}/${t.total} passed \u2014 all ${t.total}/${t.total} must pass before deployment`,i=t.checks.map(o=>{let l=M(o.output,n).map(u=>u.length>200?`${u.slice(0,199)}\u2026`:u),d=[o.detail,...o.status==="pass"?l.slice(-2):l].filter(Boolean).join(`
`);return{name:o.name,status:Se[o.status],duration:xe(o.durationMs),lastLines:d}}),a=t.gate,s=a&&(a.lines.length>0||a.diffStat)?{lines:a.lines,diffStat:a.diffStat,approval:a.approval}:void 0;return{headline:r,rows:i,gate:s,warnings:a?.warnings??[],annotated:t.annotations.length}}function Ie(t,e={}){let n=F(t,e),r=n.rows.map(a=>`| ${a.name} | ${a.status} | ${a.duration} | ${a.lastLines?`<code>${R(a.lastLines)}</code>`:""} |`),i=[`### ${n.headline}`,"","| Check | Status | Duration | Last lines |","| --- | --- | --- | --- |",...r];if(n.warnings.length>0&&i.push("",...n.warnings.map(a=>`> \u26A0\uFE0F ${R(a)}`)),n.gate){i.push("","#### Critical files","",...n.gate.lines.map(s=>`- ${R(s)}`)),n.gate.diffStat&&i.push("","```",n.gate.diffStat.replace(/```/g,"'''"),"```");let a=n.gate.approval;a&&i.push("",`Approval: **${a.state}**${a.by?` by ${R(a.by)}`:""} \u2014 ${R(a.detail)}`)}return n.annotated>0&&i.push("",`${n.annotated} problem(s) annotated on the files.`),`${i.join(`
`)}
`}function Tt(t,e){return`${ke}
${Ie(t,{tailLines:3})}${e?`
[Workflow run](${e})
`:""}`}function mt(t){return JSON.stringify({passed:`${t.passed}/${t.total}`,result:t.result,duration_ms:t.durationMs,checks:t.checks.map(e=>({name:e.name,status:e.status,duration_ms:e.durationMs,exit_code:e.exitCode,detail:e.detail??null,command:e.command??null,tail:M(e.output,20)})),annotations:t.annotations,gate:t.gate?{mode:t.gate.mode,passed:t.gate.passed,detail:t.gate.detail,changes:t.gate.changes,approval:t.gate.approval??null}:null})}import{existsSync as Pe}from"node:fs";function $(t,e){if(!t.DATABASE_URL){let r=`embedded PGlite at ${t.LEVQOR_DATA_DIR}`;return e?.socket?.role==="client"?`${r} through levqor serve (${e.socket.path})`:e?.socket?.role==="server"?`${r}, shared on ${e.socket.path}`:r}let n=new URL(t.DATABASE_URL);return`Postgres at ${n.hostname}:${n.port||5432}${n.pathname}`}import{createHash as Me}from"node:crypto";var Fe=0x6c6576716f72;function Z(t){return Me("sha256").update(t).digest("hex")}function D(t){return`${String(t.id).padStart(4,"0")}_${t.name}`}async function ee(t,e){let n=[];for(;;){let r=await t.transaction(async i=>(await i.query("SELECT pg_advisory_xact_lock($1)",[Fe]),$e(i,e)));if(!r)break;n.push(r)}return{applied:n,current:Math.max(0,...e.map(r=>r.id))}}async function $e(t,e){await t.exec(`CREATE TABLE IF NOT EXISTS levqor_migrations (
    id integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at double precision NOT NULL DEFAULT extract(epoch FROM now())
  )`);let{rows:n}=await t.query("SELECT id, name, checksum FROM levqor_migrations ORDER BY id"),r=new Map(e.map(o=>[o.id,o])),i=[];for(let o of n){let l=r.get(o.id);l?Z(l.sql)!==o.checksum&&i.push(`${D(l)} was edited after it was applied (checksum differs)`):i.push(`${D(o)} is applied but unknown to this version of Levqor (is the database newer than the code?)`)}if(i.length>0)throw new _("migration_drift",`refusing to migrate: ${i.join("; ")}. Migrations are forward-only: add a new file instead.`,i);let a=new Set(n.map(o=>o.id)),s=[...e].sort((o,l)=>o.id-l.id).find(o=>!a.has(o.id));if(s){try{await t.exec(s.sql),await t.query("INSERT INTO levqor_migrations (id, name, checksum) VALUES ($1, $2, $3)",[s.id,s.name,Z(s.sql)])}catch(o){throw new _("migration_drift",`migration ${D(s)} failed: ${o.message}`,[],{cause:o})}return D(s)}}var te=[{id:1,name:"init",sql:`-- Levqor core schema. Times are epoch seconds (double precision) so the operations
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
`},{id:12,name:"secrets",sql:`-- Secrets (issue 22): the \`db\` provider's encrypted values, per tenant. Steps carry
-- \`{{secrets.NAME}}\`; the value is resolved in memory at execution only.
-- Envelope encryption (src/secrets/crypto.ts): \`ciphertext\` is the value under a random data
-- key (AES-256-GCM), \`wrapped_key\` that data key under the key-encryption key \`key_id\` names,
-- so \`levqor secret rotate-key\` re-wraps data keys without touching values. Text (base64),
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
`},{id:13,name:"alert_rules",sql:`-- Alert rules are tenant settings (issue 25): one truth for every process, whatever its
-- environment. Each tenant has a row per rule; whichever process ticks (levqor serve, the
-- scheduler loop or --once, the bot) evaluates the tenant's rules under the tenant's row in
-- alert_evaluations, locked with SKIP LOCKED, so replicas evaluate a tenant once at a time
-- and every firing and resolution is recorded (and announced) once.
CREATE TABLE alert_rules (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  rule        text NOT NULL CHECK (rule IN ('scheduler_stale', 'approval_queue_depth', 'failure_rate')),
  threshold   double precision NOT NULL CHECK (threshold >= 0),
  enabled     boolean NOT NULL DEFAULT true,
  updated_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_by  text NOT NULL,
  PRIMARY KEY (tenant_id, rule)
);

-- One row per tenant: the evaluation lock, and when and where it last ran.
CREATE TABLE alert_evaluations (
  tenant_id     uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  evaluated_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  evaluated_by  text NOT NULL
);

-- Alerts belong to a tenant now. The ones recorded before were judged over every tenant at
-- once (the bug): they belong to no one, and a tenant's own evaluation fires them again
-- where they still hold.
DELETE FROM alerts;
ALTER TABLE alerts ADD COLUMN tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE;
-- What the rule measured when the alert resolved (the firing message keeps the firing value).
ALTER TABLE alerts ADD COLUMN resolved_message text;
ALTER TABLE alerts ADD COLUMN resolved_detail jsonb;
DROP INDEX alerts_one_firing_idx;
-- At most one firing alert per tenant and kind: the last guard against a second firing.
CREATE UNIQUE INDEX alerts_one_firing_idx ON alerts (tenant_id, kind) WHERE status = 'firing';
CREATE INDEX alerts_tenant_recent_idx ON alerts (tenant_id, fired_at DESC);

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
DECLARE
  t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['alert_rules', 'alert_evaluations', 'alerts'] LOOP
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
`},{id:14,name:"github_trust",sql:`-- Keyless requests from GitHub Actions: a workflow's OIDC token is accepted instead of an API
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
`},{id:15,name:"escalation",sql:`-- When nobody answers: approval routes (ordered stages of approvers, each eligible after a wait)
-- and reminders on a schedule. A request keeps a snapshot of its route, so editing a route
-- changes no request already waiting. Stages and reminders are advanced by whichever process
-- sweeps (a conditional UPDATE \u2026 SKIP LOCKED: once across replicas) and announced as approval
-- events; the Slack app catches up from counters on the request (stage, reminders_sent).
CREATE TABLE approval_routes (
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- '*': every action type without a route of its own.
  action_type           text NOT NULL DEFAULT '*',
  -- [{ "name": "oncall", "approvers": ["slack:U1", "group:sre"], "after_seconds": 0 }, \u2026], after_seconds ascending, the first 0.
  stages                jsonb NOT NULL CHECK (jsonb_typeof(stages) = 'array' AND jsonb_array_length(stages) BETWEEN 1 AND 10),
  -- A reminder every so often (NULL: none) and one at this fraction of the request's lifetime (NULL: none).
  remind_every_seconds  integer CHECK (remind_every_seconds BETWEEN 60 AND 604800),
  remind_at_fraction    double precision CHECK (remind_at_fraction > 0 AND remind_at_fraction < 1),
  updated_at            double precision NOT NULL DEFAULT extract(epoch FROM now()),
  updated_by            text NOT NULL,
  PRIMARY KEY (tenant_id, action_type)
);

-- Due times are computed from requested_at, expires_at and the route (no stored schedule to
-- drift): a stage is due once its after_seconds have passed, a reminder once a scheduled time
-- lies after the last one sent (reminded_at, now the latest reminder).
ALTER TABLE approval_queue
  -- The route the request was made under (NULL: none; the tenant policy decides who may decide).
  ADD COLUMN route jsonb,
  -- How many stages are eligible (1 = the first).
  ADD COLUMN stage integer NOT NULL DEFAULT 1,
  ADD COLUMN reminders_sent integer NOT NULL DEFAULT 0,
  -- What the Slack app has announced of the above.
  ADD COLUMN slack_stage integer NOT NULL DEFAULT 1,
  ADD COLUMN slack_reminders integer NOT NULL DEFAULT 0;

-- Requests reminded before this migration count that reminder (and its thread reply).
UPDATE approval_queue SET reminders_sent = 1 WHERE reminded_at IS NOT NULL;
UPDATE approval_queue SET slack_reminders = 1 WHERE slack_reminder_ts IS NOT NULL;

DROP INDEX approval_queue_reminder_idx;
CREATE INDEX approval_queue_pending_requested_idx ON approval_queue (requested_at) WHERE status = 'pending';

ALTER TABLE approval_events DROP CONSTRAINT approval_events_type_check;
ALTER TABLE approval_events ADD CONSTRAINT approval_events_type_check
  CHECK (type IN ('requested', 'vote', 'approved', 'rejected', 'expired', 'reminder', 'escalated'));

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  ALTER TABLE approval_routes ENABLE ROW LEVEL SECURITY;
  ALTER TABLE approval_routes FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON approval_routes TO levqor_app
    USING (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('levqor.tenant_id', true), '')::uuid);
  CREATE POLICY service_access ON approval_routes USING (NOT pg_has_role(current_user, 'levqor_app', 'USAGE'));
  GRANT SELECT, INSERT, UPDATE, DELETE ON approval_routes TO levqor_app;
END
$$;
`},{id:16,name:"webhooks",sql:`-- Outbound approval webhooks: a tenant's endpoints (Microsoft Teams, Discord, PagerDuty, its own
-- bot) hear every approval event, HMAC-signed with a key kept in the secret store (only its
-- name is here). Each endpoint reads the approval event feed from its own cursor; each event
-- becomes one delivery row, tried with back-off until the endpoint answers 2xx.
CREATE TABLE approval_webhooks (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name             text NOT NULL,
  url              text NOT NULL,
  -- The secret (levqor secret set NAME) whose value signs each body.
  secret_name      text NOT NULL,
  -- Event types sent; empty: all.
  events           text[] NOT NULL DEFAULT '{}',
  -- The last approval_events.id turned into deliveries (starts at the feed's end when created).
  cursor           bigint NOT NULL DEFAULT 0,
  created_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  created_by       text NOT NULL,
  UNIQUE (tenant_id, name)
);

CREATE TABLE webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  webhook_id       uuid NOT NULL REFERENCES approval_webhooks(id) ON DELETE CASCADE,
  event_id         bigint NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  double precision NOT NULL DEFAULT extract(epoch FROM now()),
  last_status      integer,
  last_error       text,
  created_at       double precision NOT NULL DEFAULT extract(epoch FROM now()),
  delivered_at     double precision,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_tenant_idx ON webhook_deliveries (tenant_id, status);

-- The same row-level security as the other tenant tables (0002), where the role exists.
DO $$
DECLARE
  t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'levqor_app') THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['approval_webhooks', 'webhook_deliveries'] LOOP
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
`},{id:17,name:"decision_links",sql:`-- Email decision links: one-time, expiring, bound to the request, the person (an email:
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
`},{id:18,name:"people",sql:`-- People: who decides, across channels. A person belongs to one tenant and has a role there;
-- the channel identities they act through (slack:U\u2026, github:login, oidc:subject, token:name,
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
`},{id:19,name:"scheduler_claims",sql:`-- Claims per batch (issue 28). A tick's claim advances the due workflows' schedules and writes
-- one row here for the batch: its owner, its lease, and the (workflow, slot) pairs it took, as
-- parallel arrays (pair i is run_ids[i], tenant_ids[i], workflow_ids[i], slots[i]). A run that
-- finishes within its batch is inserted once, already finished, by the batch's settle
-- statement, which deletes this row in the same statement; a run that parks, waits, retries
-- or lasts is written as \`running\` first, as before. UNIQUE(workflow_id, scheduled_for) on
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
`}];var ne="LEVQOR_DB_POOLER=transaction without DATABASE_DIRECT_URL: no LISTEN through the pooler (notifications would never arrive), so the scheduler and feeds wake on their timers only; set DATABASE_DIRECT_URL to a direct Postgres URL for instant wake-ups";function re(t){if(t.DATABASE_DIRECT_URL)return{via:"direct",connectionString:t.DATABASE_DIRECT_URL};let e=t.LEVQOR_DB_POOLER??"none";return e==="transaction"?{via:"poll"}:{via:e==="none"?"direct":"pooler",connectionString:t.DATABASE_URL}}var We="memory://";async function qe(t,e){let n=re(t),r=!1;return(await import("./pg-SK3DQRPA.js")).createPgDb({connectionString:t.DATABASE_URL,poolMax:t.LEVQOR_DB_POOL_MAX,connectTimeoutMs:t.LEVQOR_DB_CONNECT_TIMEOUT_MS,onBackgroundError:e.onBackgroundError,applicationName:e.applicationName,listenConnectionString:n.via==="poll"?!1:n.connectionString,onListenRefused:()=>{r||e.onWarning?.(ne),r=!0}})}function He(t){let e=t?.code??t?.cause?.code;return e==="ENOENT"||e==="ECONNREFUSED"}async function ie(t,e){let n=V(t.LEVQOR_DATA_DIR);if(!Pe(n))return;let r=(await import("./pg-SK3DQRPA.js")).createPgDb({connectionString:J(t.LEVQOR_DATA_DIR),poolMax:t.LEVQOR_DB_POOL_MAX,connectTimeoutMs:t.LEVQOR_DB_CONNECT_TIMEOUT_MS,onBackgroundError:e.onBackgroundError,applicationName:e.applicationName});try{await r.query("SELECT 1")}catch(i){if(await r.close().catch(()=>{}),He(i))return;throw new _("db_unavailable",`cannot use the embedded database through ${n}: ${x(i)}`,[],{cause:i})}return{...r,kind:"pglite",socket:{role:"client",path:n}}}function ae(t){return!t.DATABASE_URL&&t.LEVQOR_DB_SOCKET!==!1&&t.LEVQOR_DATA_DIR!==We}async function Be(t,e){let n=ae(t)&&!e.share;if(n){let i=await ie(t,e);if(i)return i}let{createPgliteDb:r}=await import("./pglite-IYPHS3AZ.js");try{return await r(t.LEVQOR_DATA_DIR)}catch(i){if(n&&i instanceof _&&i.code==="db_locked"){let a=await ie(t,e);if(a)return a}throw i}}async function se(t,e={}){let n=t.DATABASE_URL?await qe({...t,DATABASE_URL:t.DATABASE_URL},e):await Be(t,e);try{await n.query("SELECT 1"),e.migrate!==!1&&await ee(n,te),e.share&&ae(t)&&n.share&&await n.share({onError:e.onBackgroundError})}catch(r){throw await n.close().catch(()=>{}),r instanceof _?r:new _("db_unavailable",`cannot use ${$(t)}: ${x(r)}`,[],{cause:r})}return n}async function Ye(t){let{rows:e}=await t.query("SELECT id, name, timezone, created_at FROM tenants ORDER BY name");return e}async function je(t,e){let n=/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(e),{rows:r}=await t.query(`SELECT id, name, timezone, created_at FROM tenants WHERE ${n?"id = $1::uuid":"name = $1"}`,[e]);return r[0]}async function oe(t,e){if(e){let r=await je(t,e);if(!r)throw new _("not_found",`tenant "${e}" not found (levqor tenant list shows them)`);return r}let n=await Ye(t);if(n.length===1&&n[0])return n[0];throw n.length===0?new _("not_found","no tenant exists yet: create one with `levqor tenant create NAME`"):new _("bad_input",`several tenants exist (${n.map(r=>r.name).join(", ")}): pass --tenant NAME or set LEVQOR_TENANT`)}async function Wt(t){if(!/^postgres(ql)?:\/\//.test(t)||!URL.canParse(t))throw z(Q.databaseUrl,"must be a postgres:// or postgresql:// URL");return se({DATABASE_URL:t,LEVQOR_DATA_DIR:"",LEVQOR_DB_POOL_MAX:4,LEVQOR_DB_CONNECT_TIMEOUT_MS:1e4},{applicationName:"levqor-action"})}async function qt(t,e){return oe(t,e||void 0)}function P(t){return t.replace(/[&<>"']/g,e=>`&#${e.charCodeAt(0)};`)}function f(t){return P(t).replace(/\r?\n/g,"<br>")}async function Gt(){try{await g.write()}catch(t){G(`no job summary file (${t instanceof Error?t.message:String(t)}): printing it`),X(g.stringify()),g.emptyBuffer()}}function Xt(t){let e=F(t),n=g.addHeading(f(e.headline),3);n.addTable([["Check","Status","Duration","Last lines"].map(r=>({data:r,header:!0})),...e.rows.map(r=>[f(r.name),f(r.status),f(r.duration),r.lastLines?`<code>${f(r.lastLines)}</code>`:""])]);for(let r of e.warnings)n.addQuote(`\u26A0\uFE0F ${f(r)}`);if(e.gate){n.addHeading("Critical files",4).addList(e.gate.lines.map(f)),e.gate.diffStat&&n.addCodeBlock(P(e.gate.diffStat));let r=e.gate.approval;r&&n.addRaw(`<p>Approval: <strong>${f(r.state)}</strong>${r.by?` by ${f(r.by)}`:""} \u2014 ${f(r.detail)}</p>`,!0)}e.annotated>0&&n.addRaw(`<p>${e.annotated} problem(s) annotated on the files.</p>`,!0)}async function W(t){let{rows:e}=await t.query("SELECT extract(epoch FROM now())::float8 AS now");return e[0]?.now??0}var le=`id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, attempt,
  step_index, context, error, lease_owner, lease_expires_at, started_by`,v=le.replace(/(\w+)/g,"r.$1"),A="r.status = 'running' AND r.lease_owner = $1",Ke="levqor_scheduler";async function Ge(t,e){await t.query("SELECT pg_notify($1, $2)",[Ke,e])}async function Jt(t,e){e.length!==0&&await t.query(`INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
     SELECT tenant_id, run_id, workflow_id, type, step_index, coalesce(payload, '{}'), created_at
     FROM jsonb_to_recordset($1::jsonb) AS e(tenant_id uuid, run_id uuid, workflow_id uuid, type text,
       step_index integer, payload jsonb, created_at double precision)`,[JSON.stringify(e)])}var de="tenant_id uuid, run_id uuid, workflow_id uuid, type text, step_index integer, payload jsonb, created_at double precision",U=(t,e,n)=>`jsonb_build_array(jsonb_build_object('type', 'run_started', 'step_index', NULL, 'created_at', ${t},
     'payload', jsonb_build_object('trigger', 'schedule', 'scheduled_for', ${n}, 'owner', ${e})))`;async function Zt(t,e){let{rows:n}=await t.query(`UPDATE workflow_runs r SET status = 'running', lease_owner = $1, lease_expires_at = extract(epoch FROM now()) + $2
     FROM workflows w
     WHERE r.id IN (SELECT id FROM workflow_runs WHERE status = 'queued' AND ($4::uuid IS NULL OR id = $4)
                    ORDER BY started_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       AND w.id = r.workflow_id
     RETURNING ${v}, to_jsonb(w) AS workflow`,[e.owner,e.leaseSeconds,e.limit,e.onlyId??null]);return n.map(({workflow:r,...i})=>({workflow:r,run:i}))}async function ue(t,e,n,r){return(await t.query(`UPDATE workflow_runs r SET ${r?"status = 'waiting_approval', lease_owner = NULL, lease_expires_at = NULL, ":""}step_index = $3,
       context = $4::jsonb, timeline = r.timeline || $5::jsonb
     WHERE r.id = $2 AND ${A}`,[e,n.id,n.stepIndex,JSON.stringify(n.context),JSON.stringify(n.timeline??[])])).rowCount===1}function en(t,e,n){return ue(t,e,n,!1)}function tn(t,e,n){return ue(t,e,n,!0)}async function nn(t,e,n,r){return r.length===0?!0:(await t.query(`UPDATE workflow_runs r SET timeline = r.timeline || $3::jsonb WHERE r.id = $2 AND ${A}`,[e,n,JSON.stringify(r)])).rowCount===1}async function rn(t,e,n,r){return(await t.query(`WITH claims AS (
       UPDATE scheduler_claims SET lease_expires_at = extract(epoch FROM now()) + $2
       WHERE id = ANY($3::uuid[]) AND owner = $1 AND lease_expires_at > claimed_at
     )
     UPDATE workflow_runs r SET lease_expires_at = extract(epoch FROM now()) + $2 WHERE ${A}`,[e,n,r])).rowCount}async function an(t,e,n){let r=n.releases??[],i=n.claim;if(n.finishes.length===0&&r.length===0&&!i)return{finished:new Set,released:0};let a=[e,JSON.stringify(n.finishes),JSON.stringify(n.events.map(c=>({run_id:c.run_id,type:c.type,step_index:c.step_index,payload:c.payload,created_at:c.created_at})))],s=c=>`$${a.push(c)}`,o=[],l=["SELECT id, tenant_id, workflow_id, status FROM done"];r.length>0&&(o.push(`released AS (
       UPDATE workflow_runs r SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL,
         timeline = r.timeline || coalesce(x.timeline, '[]')
       FROM jsonb_to_recordset(${s(JSON.stringify(r))}::jsonb) AS x(id uuid, timeline jsonb)
       WHERE r.id = x.id AND ${A}
       RETURNING r.id, r.tenant_id, r.workflow_id, r.status
     )`),l.push("SELECT * FROM released")),i&&(o.push(Xe({claimId:`${s(i.id)}::uuid`,keep:`${s(i.keep)}::boolean`,ends:s(JSON.stringify(i.ends))})),l.push("SELECT * FROM inserted"));let{rows:d}=await t.query(`WITH done AS (
       UPDATE workflow_runs r SET status = f.status, step_index = f.step_index, context = f.context, error = f.error,
         finished_at = f.finished_at, lease_owner = NULL, lease_expires_at = NULL, timeline = r.timeline || coalesce(f.timeline, '[]')
       FROM jsonb_to_recordset($2::jsonb)
         AS f(id uuid, status text, step_index integer, context jsonb, error text, finished_at double precision, timeline jsonb)
       WHERE r.id = f.id AND ${A}
       RETURNING r.id, r.tenant_id, r.workflow_id, r.status
     ),${o.map(c=>` ${c},`).join("")} written AS (${l.join(" UNION ALL ")}),
     events AS (
       INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
       SELECT w.tenant_id, e.run_id, w.workflow_id, e.type, e.step_index, coalesce(e.payload, '{}'), e.created_at
       FROM ROWS FROM (jsonb_to_recordset($3::jsonb)
           AS (run_id uuid, type text, step_index integer, payload jsonb, created_at double precision)) WITH ORDINALITY
         AS e(run_id, type, step_index, payload, created_at, ord)
       JOIN written w ON w.id = e.run_id
       ORDER BY e.ord
     )
     SELECT id, status FROM written`,a),u=new Set(d.filter(c=>c.status!=="queued").map(c=>c.id));return{finished:u,released:d.length-u.size}}function Xe(t){return`claim_done AS (
       DELETE FROM scheduler_claims c WHERE c.id = ${t.claimId} AND c.owner = $1 AND NOT ${t.keep}
       RETURNING c.id, c.owner
     ), claim_kept AS (
       UPDATE scheduler_claims c SET lease_expires_at = c.claimed_at
       WHERE c.id = ${t.claimId} AND c.owner = $1 AND ${t.keep}
       RETURNING c.id, c.owner
     ), inserted AS (
       INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at,
         step_index, context, error, timeline)
       SELECT f.id, f.tenant_id, f.workflow_id, f.status, 'schedule', f.scheduled_for, f.started_at, f.finished_at,
              f.step_index, f.context, f.error,
              ${U("f.started_at","h.owner","f.scheduled_for")} || coalesce(f.timeline, '[]')
       FROM jsonb_to_recordset(${t.ends}::jsonb)
         AS f(id uuid, tenant_id uuid, workflow_id uuid, scheduled_for double precision, started_at double precision,
              status text, step_index integer, context jsonb, error text, finished_at double precision, timeline jsonb),
         (SELECT * FROM claim_done UNION ALL SELECT * FROM claim_kept) h
       -- A workflow deleted mid-batch takes its run with it (as its runs' rows cascade): its end
       -- is not inserted, and the rest of the batch settles.
       WHERE EXISTS (SELECT 1 FROM workflows w WHERE w.id = f.workflow_id)
       ON CONFLICT DO NOTHING
       RETURNING id, tenant_id, workflow_id, status
     )`}async function sn(t,e,n,r){let{rows:i}=await t.query(`UPDATE workflow_runs SET status = $2, error = $3,
       finished_at = CASE WHEN $2 = 'queued' THEN NULL ELSE extract(epoch FROM now()) END
     WHERE id = $1 AND status = 'waiting_approval' RETURNING ${le}`,[e,n,r]);return i[0]}async function on(t,e=500){let{rows:n}=await t.query(`WITH expired AS (
       SELECT r.id FROM workflow_runs r
       WHERE r.status = 'running' AND r.lease_expires_at < extract(epoch FROM now())
       ORDER BY r.lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
     )
     UPDATE workflow_runs r SET
       status = CASE WHEN r.attempt < w.max_run_attempts THEN 'queued' ELSE 'failed' END,
       attempt = CASE WHEN r.attempt < w.max_run_attempts THEN r.attempt + 1 ELSE r.attempt END,
       finished_at = CASE WHEN r.attempt < w.max_run_attempts THEN NULL ELSE extract(epoch FROM now()) END,
       error = 'lease expired: the scheduler running it (' || coalesce(r.lease_owner, '?') || ') stopped before the run finished'
               || CASE WHEN r.attempt < w.max_run_attempts THEN '; retrying' ELSE '' END,
       lease_owner = NULL, lease_expires_at = NULL
     FROM expired e, workflows w
     WHERE r.id = e.id AND w.id = r.workflow_id
     RETURNING ${v}`,[e]);return n}function q(t){return Array.isArray(t)?`[${t.map(q).join(",")}]`:t!==null&&typeof t=="object"?`{${Object.entries(t).filter(([,n])=>n!==void 0).sort(([n],[r])=>n<r?-1:n>r?1:0).map(([n,r])=>`${JSON.stringify(n)}:${q(r)}`).join(",")}}`:JSON.stringify(t)??"null"}async function cn(t,e){let{rows:n}=await t.query(`WITH src AS MATERIALIZED (
       SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb)
         AS (id uuid, tenant_id uuid, workflow_id uuid, scheduled_for double precision)) WITH ORDINALITY
         AS s(id, tenant_id, workflow_id, scheduled_for, ord)
     ), advanced AS (
       UPDATE workflows w SET next_run_at = a.next, last_run_at = coalesce(a.last, w.last_run_at)
       FROM jsonb_to_recordset($5::jsonb) AS a(id uuid, due double precision, next double precision, last double precision)
       WHERE w.id = a.id AND w.next_run_at = a.due
       RETURNING w.id
     ), claim AS (
       INSERT INTO scheduler_claims (id, owner, claimed_at, lease_expires_at, run_ids, tenant_ids, workflow_ids, slots)
       SELECT $7::uuid, $3::text, $2::float8, $2::float8 + $4::float8, array_agg(s.id ORDER BY s.ord),
              array_agg(s.tenant_id ORDER BY s.ord), array_agg(s.workflow_id ORDER BY s.ord), array_agg(s.scheduled_for ORDER BY s.ord)
       FROM src s
       WHERE s.workflow_id IN (SELECT id FROM advanced)
         AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.workflow_id = s.workflow_id AND r.scheduled_for = s.scheduled_for)
       HAVING count(*) > 0
       RETURNING run_ids
     ), events AS (
       INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
       SELECT e.tenant_id, e.run_id, e.workflow_id, e.type, e.step_index, coalesce(e.payload, '{}'), e.created_at
       FROM ROWS FROM (jsonb_to_recordset($6::jsonb) AS (${de})) WITH ORDINALITY
         AS e(tenant_id, run_id, workflow_id, type, step_index, payload, created_at, ord)
       ORDER BY e.ord
     )
     SELECT unnest(run_ids) AS id FROM claim`,[JSON.stringify(e.runs),e.now,e.owner,e.leaseSeconds,JSON.stringify(e.advances),JSON.stringify(e.events),e.id]);return new Set(n.map(r=>r.id))}async function En(t,e,n,r){return(await t.query(`INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at, timeline)
     SELECT $2, $3, $4, 'running', 'schedule', $5::float8, $6::float8, $1::text, c.lease_expires_at,
            ${U("$6::float8","$1::text","$5::float8")}
     FROM scheduler_claims c WHERE c.id = $7 AND c.owner = $1
     ON CONFLICT DO NOTHING`,[e,n.id,n.tenant_id,n.workflow_id,n.scheduled_for,n.started_at,r])).rowCount===1}async function pn(t,e=50){let{rows:n}=await t.query(`WITH gone AS (
       DELETE FROM scheduler_claims c
       WHERE c.id IN (SELECT id FROM scheduler_claims WHERE lease_expires_at < extract(epoch FROM now())
                      ORDER BY lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING c.owner, c.claimed_at, c.run_ids, c.tenant_ids, c.workflow_ids, c.slots
     ), r AS (
       INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, attempt, error, timeline)
       SELECT p.id, p.tenant_id, p.workflow_id,
              CASE WHEN 1 < w.max_run_attempts THEN 'queued' ELSE 'failed' END, 'schedule', p.slot, g.claimed_at,
              CASE WHEN 1 < w.max_run_attempts THEN NULL ELSE extract(epoch FROM now()) END,
              CASE WHEN 1 < w.max_run_attempts THEN 2 ELSE 1 END,
              'lease expired: the scheduler running it (' || g.owner || ') stopped before the run finished'
                || CASE WHEN 1 < w.max_run_attempts THEN '; retrying' ELSE '' END,
              ${U("g.claimed_at","g.owner","p.slot")}
       FROM gone g, unnest(g.run_ids, g.tenant_ids, g.workflow_ids, g.slots) AS p(id, tenant_id, workflow_id, slot)
         JOIN workflows w ON w.id = p.workflow_id
       ON CONFLICT DO NOTHING
       RETURNING *
     )
     SELECT ${v} FROM r`,[e]);return n}var hn=`SELECT p.id, p.tenant_id, p.workflow_id, 'running'::text AS status, 'schedule'::text AS trigger,
    p.slot AS scheduled_for, c.claimed_at AS started_at, NULL::float8 AS finished_at, 1 AS attempt, 0 AS step_index,
    '{}'::jsonb AS context, NULL::text AS error, c.owner AS lease_owner, c.lease_expires_at, NULL::text AS started_by
  FROM scheduler_claims c, unnest(c.run_ids, c.tenant_ids, c.workflow_ids, c.slots) AS p(id, tenant_id, workflow_id, slot)
  WHERE NOT EXISTS (SELECT 1 FROM workflow_runs x WHERE x.id = p.id)`;function m(t,e,n,r=0,i=0,a=0,s=0){let o=t>=0&&t<100,l=Date.UTC(o?t+400:t,e,n,r,i,a,s);return o?l-126227808e5:l}function S(t){return m(t.y,t.m-1,t.d,t.h,t.i,t.s)}function b(t,e){return t.y===e.y&&t.m===e.m&&t.d===e.d&&t.h===e.h&&t.i===e.i&&t.s===e.s}function Te(t){let e=t.substring(9);return e.includes("Z")||e.includes("+")||e.includes("-")}function Qe(t,e){let n=new Date(Date.parse(t));if(isNaN(n))throw new Error("Invalid ISO8601 passed to timezone parser.");return Te(t)?{tp:O(n.getUTCFullYear(),n.getUTCMonth()+1,n.getUTCDate(),n.getUTCHours(),n.getUTCMinutes(),n.getUTCSeconds(),"Etc/UTC"),ms:n.getUTCMilliseconds()}:{tp:O(n.getFullYear(),n.getMonth()+1,n.getDate(),n.getHours(),n.getMinutes(),n.getSeconds(),e),ms:n.getMilliseconds()}}function H(t,e,n){let{tp:r,ms:i}=Qe(t,e);return new Date(me(r,n).getTime()+i)}function me(t,e){let n=K(t);if(n.kind==="single")return n.date;if(n.kind==="ambiguous")return n.earlier;if(e)throw new Error("Invalid date passed to fromTZ()");return n.after}function K(t){let e=S(t),n=s=>j(new Date(s),t.tz),r=e-n(e),i=N(new Date(r),t.tz);if(b(i,t)){let s=S(i)-r,o=r-(n(r-ce)-s);if(o<r&&b(N(new Date(o),t.tz),t))return{kind:"ambiguous",earlier:new Date(o),later:new Date(r)};let l=r+(s-n(r+ce));return l>r&&b(N(new Date(l),t.tz),t)?{kind:"ambiguous",earlier:new Date(r),later:new Date(l)}:{kind:"single",date:new Date(r)}}let a=e-(S(i)-r);return b(N(new Date(a),t.tz),t)?{kind:"single",date:new Date(a)}:{kind:"gap",before:new Date(Math.min(r,a)),after:new Date(Math.max(r,a))}}var ce=3*36e5;function j(t,e){return S(N(t,e))-(t.getTime()-t.getUTCMilliseconds())}function B(t,e,n){let r=j(new Date(t),n);for(;e-t>1e3;){let i=t+Math.floor((e-t)/2e3)*1e3;j(new Date(i),n)===r?t=i:e=i}return e}function ze(t,e){let n=K(N(new Date(t),e));if(n.kind==="ambiguous")return t<n.later.getTime()?"earlier":"later"}var Ve=m(1,0,1),Ee=864e5,pe=new Map;function N(t,e){if(e===void 0)return O(t.getFullYear(),t.getMonth()+1,t.getDate(),t.getHours(),t.getMinutes(),t.getSeconds());let n=pe.get(e),r;try{n||(n=new Intl.DateTimeFormat("en-US",{timeZone:e,year:"numeric",month:"numeric",day:"numeric",hour:"numeric",minute:"numeric",second:"numeric",hour12:!1}),pe.set(e,n)),r=n.formatToParts(t)}catch(s){let o=s instanceof Error?s.message:String(s);throw new RangeError(`toTZ: Invalid timezone '${e}' or date. Please provide a valid IANA timezone (e.g., 'America/New_York', 'Europe/Stockholm'). Original error: ${o}`)}let i={year:0,month:0,day:0,hour:0,minute:0,second:0};for(let s of r)(s.type==="year"||s.type==="month"||s.type==="day"||s.type==="hour"||s.type==="minute"||s.type==="second")&&(i[s.type]=parseInt(s.value,10));if(isNaN(i.year)||isNaN(i.month)||isNaN(i.day)||isNaN(i.hour)||isNaN(i.minute)||isNaN(i.second))throw new Error(`toTZ: Failed to parse all date components from timezone '${e}'. This may indicate an invalid date or timezone configuration. Parsed components: ${JSON.stringify(i)}`);let a=t.getTime()-Ve;return(a<-Ee||a<Ee&&i.month===12)&&(i.year=1-i.year),i.hour===24&&(i.hour=0),{y:i.year,m:i.month,d:i.day,h:i.hour,i:i.minute,s:i.second,tz:e}}function O(t,e,n,r,i,a,s){return{y:t,m:e,d:n,h:r,i,s:a,tz:s}}var Ne=[1,2,4,8,16],he=class T{pattern;timezone;mode;alternativeWeekdays;sloppyRanges;fixedTimeRule;second;minute;hour;day;month;dayOfWeek;year;lastDayOfMonth;lastWeekday;nearestWeekdays;starDOM;starDOW;starYear;useAndLogic;isFixedTime;constructor(e,n,r){this.pattern=e,this.timezone=n,this.mode=r?.mode??"auto",this.alternativeWeekdays=r?.alternativeWeekdays??!1,this.sloppyRanges=r?.sloppyRanges??!1,this.fixedTimeRule=r?.fixedTimeRule??"single-value",this.second=Array(60).fill(0),this.minute=Array(60).fill(0),this.hour=Array(24).fill(0),this.day=Array(31).fill(0),this.month=Array(12).fill(0),this.dayOfWeek=Array(7).fill(0),this.year=[],this.lastDayOfMonth=!1,this.lastWeekday=!1,this.nearestWeekdays=Array(31).fill(0),this.starDOM=!1,this.starDOW=!1,this.starYear=!1,this.useAndLogic=!1,this.isFixedTime=!1,this.parse()}parse(){if(!(typeof this.pattern=="string"||this.pattern instanceof String))throw new TypeError("CronPattern: Pattern has to be of type string.");this.pattern.indexOf("@")>=0&&(this.pattern=this.handleNicknames(this.pattern).trim());let e=this.pattern.match(/\S+/g)||[""],n=e.length;if(e.length<5||e.length>7)throw new TypeError("CronPattern: invalid configuration format ('"+this.pattern+"'), exactly five, six, or seven space separated parts are required.");if(this.mode!=="auto"){let s;switch(this.mode){case"5-part":s=5;break;case"6-part":s=6;break;case"7-part":s=7;break;case"5-or-6-parts":s=[5,6];break;case"6-or-7-parts":s=[6,7];break;default:s=0}if(!(Array.isArray(s)?s.includes(n):n===s)){let o=Array.isArray(s)?s.join(" or "):s.toString();throw new TypeError(`CronPattern: mode '${this.mode}' requires exactly ${o} parts, but pattern '${this.pattern}' has ${n} parts.`)}}if(e.length===5&&e.unshift("0"),e.length===6&&e.push("*"),this.pattern.indexOf("?")>=0)for(let s=0;s<e.length;s++)e[s]=e[s].replace(/\?/g,"*");if(e[3].toUpperCase()==="LW")this.lastWeekday=!0,e[3]="";else if(e[3].toUpperCase().indexOf("L")>=0){let s=e[3].split(",");if(s.length>1&&s.some(o=>o.toUpperCase()==="LW"))throw new TypeError(`CronPattern: Syntax error, LW can not be in a list in day-of-month ('${e[3]}').`);if(s.some(o=>o===""||o.toUpperCase()!=="L"&&/l/i.test(o)))throw new TypeError("CronPattern: Syntax error, L has to be a value of its own in day-of-month ('"+e[3]+"').");e[3]=s.filter(o=>o.toUpperCase()!=="L").join(","),this.lastDayOfMonth=!0}if(e[3]=="*"&&(this.starDOM=!0),e[6]=="*"&&(this.starYear=!0),e[4].length>=3&&(e[4]=this.replaceAlpha(e[4],T.MONTH_NAMES)),e[5].length>=3&&(e[5]=this.alternativeWeekdays?this.replaceAlpha(e[5],T.DAY_NAMES_QUARTZ):this.replaceAlpha(e[5],T.DAY_NAMES)),e[5].startsWith("+")&&(this.useAndLogic=!0,e[5]=e[5].substring(1),e[5]===""))throw new TypeError("CronPattern: Day-of-week field cannot be empty after '+' modifier.");switch(e[5]=="*"&&(this.starDOW=!0),this.mode){case"5-part":e[0]="0",e[6]="*";break;case"6-part":e[6]="*";break;case"5-or-6-parts":e[6]="*";break;case"6-or-7-parts":break;case"7-part":case"auto":break}this.throwAtIllegalCharacters(e),this.partToArray("second",e[0],0,1),this.partToArray("minute",e[1],0,1),this.partToArray("hour",e[2],0,1),this.partToArray("day",e[3],-1,1),this.partToArray("month",e[4],-1,1);let r=this.alternativeWeekdays?-1:0;this.partToArray("dayOfWeek",e[5],r,63),e[6]==="*"?this.year=Array(1e4).fill(1):(this.year=Array(1e4).fill(0),this.partToArray("year",e[6],0,1)),!this.alternativeWeekdays&&this.dayOfWeek[7]&&(this.dayOfWeek[0]=this.dayOfWeek[7]);let i=this.fixedTimeRule==="single-value",a=(s,o)=>!s.includes("*")&&!s.includes("/")&&(!i||o.filter(l=>l).length===1);this.isFixedTime=a(e[0],this.second)&&a(e[1],this.minute)&&a(e[2],this.hour)}partToArray(e,n,r,i){let a=this[e];if(n===""&&!(e==="day"&&(this.lastDayOfMonth||this.lastWeekday)))throw new TypeError("CronPattern: configuration entry "+e+" ("+n+") is empty, check for trailing spaces.");if(n==="*")return a.fill(i);let s=n.split(",");if(s.length>1)for(let o of s)this.partToArray(e,o,r,i);else n.includes("-")&&n.includes("/")?this.handleRangeWithStepping(n,e,r,i):n.includes("-")?this.handleRange(n,e,r,i):n.includes("/")?this.handleStepping(n,e,r,i):n!==""&&this.handleNumber(n,e,r,i)}throwAtIllegalCharacters(e){for(let n=0;n<e.length;n++)if((n===3?/[^/*0-9,\-WwLl]+/:n===5?/[^/*0-9,\-#Ll]+/:/[^/*0-9,\-]+/).test(e[n]))throw new TypeError("CronPattern: configuration entry "+n+" ("+e[n]+") contains illegal characters.")}handleNumber(e,n,r,i){let a=this.extractNth(e,n),s=e.toUpperCase().includes("W");if(n!=="day"&&s)throw new TypeError("CronPattern: Nearest weekday modifier (W) only allowed in day-of-month.");s&&(n="nearestWeekdays");let o=s?a[0].replace(/W$/i,""):a[0],l=T.toNumber(o)+r;if(isNaN(l))throw new TypeError("CronPattern: "+n+" is not a number: '"+e+"'");this.setPart(n,l,a[1]||i)}setPart(e,n,r){if(!Object.prototype.hasOwnProperty.call(this,e))throw new TypeError("CronPattern: Invalid part specified: "+e);if(e==="dayOfWeek"){if(n===7&&(n=0),n<0||n>6)throw new RangeError("CronPattern: Invalid value for dayOfWeek: "+n);this.setNthWeekdayOfMonth(n,r);return}if(e==="second"||e==="minute"){if(n<0||n>=60)throw new RangeError("CronPattern: Invalid value for "+e+": "+n)}else if(e==="hour"){if(n<0||n>=24)throw new RangeError("CronPattern: Invalid value for "+e+": "+n)}else if(e==="day"||e==="nearestWeekdays"){if(n<0||n>=31)throw new RangeError("CronPattern: Invalid value for "+e+": "+n)}else if(e==="month"){if(n<0||n>=12)throw new RangeError("CronPattern: Invalid value for "+e+": "+n)}else if(e==="year"&&(n<1||n>=1e4))throw new RangeError("CronPattern: Invalid value for "+e+": "+n+" (supported range: 1-9999)");this[e][n]=r}static toNumber(e){return/^\d+$/.test(e)?parseInt(e,10):NaN}validateNotNaN(e,n){if(isNaN(e))throw new TypeError(n)}validateRange(e,n,r,i,a){if(e>n)throw new TypeError("CronPattern: From value is larger than to value: '"+a+"'");if(r!==void 0){if(r===0)throw new TypeError("CronPattern: Syntax error, illegal stepping: 0");if(r>this[i].length)throw new TypeError("CronPattern: Syntax error, steps cannot be greater than maximum value of part ("+this[i].length+")")}}handleRangeWithStepping(e,n,r,i){if(e.toUpperCase().includes("W"))throw new TypeError("CronPattern: Syntax error, W is not allowed in ranges with stepping.");let a=this.extractNth(e,n),s=a[0].match(/^(\d+)-(\d+)\/(\d+)$/);if(s===null)throw new TypeError("CronPattern: Syntax error, illegal range with stepping: '"+e+"'");let[,o,l,d]=s,u=parseInt(o,10)+r,c=parseInt(l,10)+r,h=parseInt(d,10);this.validateNotNaN(u,"CronPattern: Syntax error, illegal lower range (NaN)"),this.validateNotNaN(c,"CronPattern: Syntax error, illegal upper range (NaN)"),this.validateNotNaN(h,"CronPattern: Syntax error, illegal stepping: (NaN)"),this.validateRange(u,c,h,n,e);for(let w=u;w<=c;w+=h)this.setPart(n,w,a[1]||i)}extractNth(e,n){let r=e,i;if(r.includes("#")){if(n!=="dayOfWeek")throw new Error("CronPattern: nth (#) only allowed in day-of-week field");let a=r.split("#");if(a.length!==2||a[1]==="")throw new TypeError("CronPattern: Syntax error, illegal nth weekday: '"+e+"'");r=a[0],i=a[1]}else if(r.toUpperCase().endsWith("L")){if(n!=="dayOfWeek")throw new Error("CronPattern: L modifier only allowed in day-of-week field (use L alone for day-of-month)");i="L",r=r.slice(0,-1)}return[r,i]}handleRange(e,n,r,i){if(e.toUpperCase().includes("W"))throw new TypeError("CronPattern: Syntax error, W is not allowed in a range.");let a=this.extractNth(e,n),s=a[0].split("-");if(s.length!==2)throw new TypeError("CronPattern: Syntax error, illegal range: '"+e+"'");let o=T.toNumber(s[0])+r,l=T.toNumber(s[1])+r;this.validateNotNaN(o,"CronPattern: Syntax error, illegal lower range (NaN)"),this.validateNotNaN(l,"CronPattern: Syntax error, illegal upper range (NaN)"),this.validateRange(o,l,void 0,n,e);for(let d=o;d<=l;d++)this.setPart(n,d,a[1]||i)}handleStepping(e,n,r,i){if(e.toUpperCase().includes("W"))throw new TypeError("CronPattern: Syntax error, W is not allowed in parts with stepping.");let a=this.extractNth(e,n),s=a[0].split("/");if(s.length!==2)throw new TypeError("CronPattern: Syntax error, illegal stepping: '"+e+"'");if(this.sloppyRanges)s[0]===""&&(s[0]="*");else{if(s[0]==="")throw new TypeError("CronPattern: Syntax error, stepping with missing prefix ('"+e+"') is not allowed. Use wildcard (*/step) or range (min-max/step) instead.");if(s[0]!=="*")throw new TypeError("CronPattern: Syntax error, stepping with numeric prefix ('"+e+"') is not allowed. Use wildcard (*/step) or range (min-max/step) instead.")}let o=0;s[0]!=="*"&&(o=T.toNumber(s[0])+r,this.validateNotNaN(o,"CronPattern: Syntax error, illegal stepping start (NaN)"));let l=T.toNumber(s[1]);this.validateNotNaN(l,"CronPattern: Syntax error, illegal stepping: (NaN)"),this.validateRange(0,this[n].length-1,l,n,e);for(let d=o;d<this[n].length;d+=l)n==="year"&&d===0||this.setPart(n,d,a[1]||i)}replaceAlpha(e,n){let r=e;for(let[i,a]of Object.entries(n))r=r.replace(new RegExp(i,"gi"),(s,o,l)=>{let d=o+s.length-3,u=l.charAt(d-1),c=l.charAt(d+3);if(/[a-z\d/#]/i.test(u)||/[a-km-z\d]/i.test(c))throw new TypeError(`CronPattern: Syntax error, a month or day name has to stand alone ('${e}').`);return a});return r}static DAY_NAMES={"-sun":"-7",sun:"0",mon:"1",tue:"2",wed:"3",thu:"4",fri:"5",sat:"6"};static DAY_NAMES_QUARTZ={sun:"1",mon:"2",tue:"3",wed:"4",thu:"5",fri:"6",sat:"7"};static MONTH_NAMES={jan:"1",feb:"2",mar:"3",apr:"4",may:"5",jun:"6",jul:"7",aug:"8",sep:"9",oct:"10",nov:"11",dec:"12"};static NICKNAME_MAP={"@yearly":"0 0 1 1 *","@annually":"0 0 1 1 *","@monthly":"0 0 1 * *","@weekly":"0 0 * * SUN","@daily":"0 0 * * *","@midnight":"0 0 * * *","@hourly":"0 * * * *"};handleNicknames(e){let n=e.trim().toLowerCase();if(n==="@reboot")throw new TypeError("CronPattern: @reboot is not supported in this environment. This is an event-based trigger that requires system startup detection.");return T.NICKNAME_MAP[n]||e}setNthWeekdayOfMonth(e,n){if(typeof n!="number"&&n.toUpperCase()==="L")this.dayOfWeek[e]=this.dayOfWeek[e]|32;else if(n===63)this.dayOfWeek[e]=63;else if(n<6&&n>0)this.dayOfWeek[e]=this.dayOfWeek[e]|Ne[n-1];else throw new TypeError(`CronPattern: nth weekday out of range, should be 1-5 or L. Value: ${n}, Type: ${typeof n}`)}},Je=[31,28,31,30,31,30,31,31,30,31,30,31],E=[["month","year",0],["day","month",-1],["hour","day",0],["minute","hour",0],["second","minute",0]],p=class we{tz;instantMs;instantFields;ms;second;minute;hour;day;month;year;constructor(e,n){if(this.tz=n,e&&e instanceof Date)if(!isNaN(e))this.fromDate(e);else throw new TypeError("CronDate: Invalid date passed to CronDate constructor");else if(e==null)this.fromDate(new Date);else if(e&&typeof e=="string")this.fromString(e);else if(e instanceof we)this.fromCronDate(e);else throw new TypeError("CronDate: Invalid type ("+typeof e+") passed to CronDate constructor")}getLastDayOfMonth(e,n){return n!==1?Je[n]:new Date(m(e,n+1,0)).getUTCDate()}getLastWeekday(e,n){let r=this.getLastDayOfMonth(e,n),i=new Date(m(e,n,r)).getUTCDay();return i===0?r-2:i===6?r-1:r}getNearestWeekday(e,n,r){let i=this.getLastDayOfMonth(e,n);if(r>i)return-1;let a=new Date(m(e,n,r)).getUTCDay();return a===0?r===i?r-2:r+1:a===6?r===1?r+2:r-1:r}isNthWeekdayOfMonth(e,n,r,i){let a=new Date(m(e,n,r)).getUTCDay(),s=0;for(let o=1;o<=r;o++)new Date(m(e,n,o)).getUTCDay()===a&&s++;if(i&63&&Ne[s-1]&i)return!0;if(i&32){let o=this.getLastDayOfMonth(e,n);for(let l=r+1;l<=o;l++)if(new Date(m(e,n,l)).getUTCDay()===a)return!1;return!0}return!1}fromDate(e){if(this.tz!==void 0)if(typeof this.tz=="number")this.ms=e.getUTCMilliseconds(),this.second=e.getUTCSeconds(),this.minute=e.getUTCMinutes()+this.tz,this.hour=e.getUTCHours(),this.day=e.getUTCDate(),this.month=e.getUTCMonth(),this.year=e.getUTCFullYear(),this.apply();else try{let n=N(e,this.tz);this.ms=e.getMilliseconds(),this.second=n.s,this.minute=n.i,this.hour=n.h,this.day=n.d,this.month=n.m-1,this.year=n.y,this.cacheInstant(e.getTime()-this.ms)}catch(n){let r=n instanceof Error?n.message:String(n);throw new TypeError(`CronDate: Failed to convert date to timezone '${this.tz}'. This may happen with invalid timezone names or dates. Original error: ${r}`)}else this.ms=e.getMilliseconds(),this.second=e.getSeconds(),this.minute=e.getMinutes(),this.hour=e.getHours(),this.day=e.getDate(),this.month=e.getMonth(),this.year=e.getFullYear(),this.cacheInstant(e.getTime()-this.ms)}cacheInstant(e){this.instantMs=e;let{year:n,month:r,day:i,hour:a,minute:s,second:o}=this;this.instantFields=[n,r,i,a,s,o,this.tz]}cachedInstant(){let e=this.instantFields;if(!(e===void 0||e[6]!==this.tz)&&!(e[5]!==this.second||e[4]!==this.minute||e[3]!==this.hour)&&!(e[2]!==this.day||e[1]!==this.month||e[0]!==this.year))return this.instantMs}fromCronDate(e){this.tz=e.tz,this.year=e.year,this.month=e.month,this.day=e.day,this.hour=e.hour,this.minute=e.minute,this.second=e.second,this.ms=e.ms,this.instantMs=e.instantMs,this.instantFields=e.instantFields}apply(){if(this.month>11||this.month<0||this.day>this.getLastDayOfMonth(this.year,this.month)||this.day<1||this.hour>23||this.minute>59||this.second>59||this.hour<0||this.minute<0||this.second<0){let e=new Date(0);return e.setUTCFullYear(this.year,this.month,this.day),e.setUTCHours(this.hour,this.minute,this.second,this.ms),this.ms=e.getUTCMilliseconds(),this.second=e.getUTCSeconds(),this.minute=e.getUTCMinutes(),this.hour=e.getUTCHours(),this.day=e.getUTCDate(),this.month=e.getUTCMonth(),this.year=e.getUTCFullYear(),!0}else return!1}fromString(e){if(typeof this.tz=="number"){if(Te(e))return this.fromDate(H(e));let n=H(e,"Etc/UTC");this.ms=n.getUTCMilliseconds(),this.second=n.getUTCSeconds(),this.minute=n.getUTCMinutes(),this.hour=n.getUTCHours(),this.day=n.getUTCDate(),this.month=n.getUTCMonth(),this.year=n.getUTCFullYear(),this.apply()}else return this.fromDate(H(e,this.tz))}findNext(e,n,r,i){return this._findMatch(e,n,r,i,1)}_matchDayValue(e,n,r,i){let a=e;if(!a){for(let s=0;s<r.nearestWeekdays.length;s++)if(r.nearestWeekdays[s]){let o=this.getNearestWeekday(this.year,this.month,s+1);if(o!==-1&&o===n){a=1;break}}}if(r.lastWeekday){let s=this.getLastWeekday(this.year,this.month);n===s&&(a=1)}if(r.lastDayOfMonth){let s=this.getLastDayOfMonth(this.year,this.month);n===s&&(a=1)}if(!r.starDOW){let s=new Date(m(this.year,this.month,1,0,0,0,0)).getUTCDay(),o=r.dayOfWeek[(s+(n-1))%7];o&&o&63&&(o=this.isNthWeekdayOfMonth(this.year,this.month,n,o)?1:0),r.useAndLogic?a=a&&o:!i.domAndDow&&!r.starDOM?a=a||o:a=a&&o}return a}_findMatch(e,n,r,i,a){let s=this[n],o=n==="day"?this.getLastDayOfMonth(this.year,this.month):0,l=this[n]+i,d=a===1?u=>u<r[n].length:u=>u>=0;for(let u=l;d(u);u+=a){let c=r[n][u];if(n==="day"){if(u-i>o)continue;c=this._matchDayValue(c,u-i,r,e)}if(c)return this[n]=u-i,s!==this[n]?2:1}return 3}recurse(e,n,r){let i=this.year,a=r;for(;typeof a=="number";){if(e.starYear&&Math.abs(this.year-i)>400)return null;a=this.recurseStep(e,n,a)}return a}recurseStep(e,n,r){if(r===0&&!e.starYear){if(this.year>=0&&this.year<e.year.length&&e.year[this.year]===0){let a=-1;for(let s=this.year+1;s<e.year.length&&s<1e4;s++)if(e.year[s]===1){a=s;break}if(a===-1)return null;this.year=a,this.month=0,this.day=1,this.hour=0,this.minute=0,this.second=0,this.ms=0}if(this.year>=1e4)return null}let i=this.findNext(n,E[r][0],e,E[r][2]);if(i>1){let a=r+1;for(;a<E.length;)this[E[a][0]]=-E[a][2],a++;if(i===3){if(this[E[r][1]]++,this[E[r][0]]=-E[r][2],this.apply(),r===0&&!e.starYear){for(;this.year>=0&&this.year<e.year.length&&e.year[this.year]===0&&this.year<1e4;)this.year++;if(this.year>=1e4||this.year>=e.year.length)return null}return 0}else if(this.apply())return r-1}return r+=1,r>=E.length?this:(e.starYear?this.year>=3e3:this.year>=1e4)?null:r}increment(e,n,r){return this.instantMs=void 0,this.instantFields=void 0,this.second+=n.interval!==void 0&&n.interval>1&&r?n.interval:1,this.ms=0,this.apply(),this.recurse(e,n,0)}decrement(e,n,r=!0){this.instantMs=void 0,this.instantFields=void 0;let i=n.interval!==void 0&&n.interval>=1;return(this.ms===0||i)&&(this.second-=i&&r?n.interval:1),this.ms=0,this.apply(),this.year<1?null:this.recurseBackward(e,n,0)}recurseBackward(e,n,r){let i=this.year,a=r;for(;typeof a=="number";){if(e.starYear&&Math.abs(this.year-i)>400)return null;a=this.recurseBackwardStep(e,n,a)}return a}recurseBackwardStep(e,n,r){if(r===0&&!e.starYear){if(this.year>=0&&this.year<e.year.length&&e.year[this.year]===0){let a=-1;for(let s=this.year-1;s>=0;s--)if(e.year[s]===1){a=s;break}if(a===-1)return null;this.year=a,this.month=11,this.day=31,this.hour=23,this.minute=59,this.second=59,this.ms=0}if(this.year<1)return null}let i=this.findPrevious(n,E[r][0],e,E[r][2]);if(i>1){let a=r+1;for(;a<E.length;){let s=E[a][0],o=E[a][2],l=this.getMaxPatternValue(s,e,o);this[s]=l,a++}if(i===3){if(this[E[r][1]]--,r===0){let l=this.getLastDayOfMonth(this.year,this.month);this.day>l&&(this.day=l)}if(r===1)if(this.day<=0)this.day=1;else{let l=this.year,d=this.month;for(;d<0;)d+=12,l--;for(;d>11;)d-=12,l++;let u=this.getLastDayOfMonth(l,d);this.day>u&&(this.day=u)}this.apply();let s=E[r][0],o=E[r][2];if(this[s]=this.getMaxPatternValue(s,e,o),this.apply(),r===0){let l=E[1][2],d=this.getMaxPatternValue("day",e,l);d!==this.day&&(this.day=d,this.hour=this.getMaxPatternValue("hour",e,E[2][2]),this.minute=this.getMaxPatternValue("minute",e,E[3][2]),this.second=this.getMaxPatternValue("second",e,E[4][2]))}if(r===0&&!e.starYear){for(;this.year>=0&&this.year<e.year.length&&e.year[this.year]===0;)this.year--;if(this.year<1)return null}return 0}else if(this.apply())return r-1}return r+=1,r>=E.length?this:this.year<1?null:r}getMaxPatternValue(e,n,r){let i=n[e].length-1-r;for(let a=n[e].length-1;a>=0;a--)if(n[e][a]){i=a-r;break}if(e==="day"){let a=this.getLastDayOfMonth(this.year,this.month);return n.lastWeekday||n.nearestWeekdays.some(s=>s)||n.lastDayOfMonth||!n.starDOW?a:Math.min(i,a)}return i}findPrevious(e,n,r,i){return this._findMatch(e,n,r,i,-1)}getDate(e){if(!e&&typeof this.tz!="number"){let n=this.cachedInstant();if(n!==void 0)return new Date(n+(this.tz===void 0?this.ms:0))}if(e||this.tz===void 0){if(this.year>=0&&this.year<100){let n=new Date(0);return n.setFullYear(this.year,this.month,this.day),n.setHours(this.hour,this.minute,this.second,this.ms),n}return new Date(this.year,this.month,this.day,this.hour,this.minute,this.second,this.ms)}else return typeof this.tz=="number"?new Date(m(this.year,this.month,this.day,this.hour,this.minute-this.tz,this.second,this.ms)):me(O(this.year,this.month+1,this.day,this.hour,this.minute,this.second,this.tz),!1)}getTime(){return this.getDate(!1).getTime()}match(e,n){if(!e.starYear&&(this.year<0||this.year>=e.year.length||e.year[this.year]===0))return!1;for(let r=0;r<E.length;r++){let i=E[r][0],a=E[r][2],s=this[i];if(s+a<0||s+a>=e[i].length)return!1;let o=e[i][s+a];if(i==="day"&&(o=this._matchDayValue(o,s,e,n)),!o)return!1}return!0}};function Ze(t){t===void 0&&(t={}),delete t.name,t.legacyMode!==void 0&&t.domAndDow===void 0?t.domAndDow=!t.legacyMode:t.domAndDow===void 0&&(t.domAndDow=!1),t.legacyMode=!t.domAndDow;let e=(r,i)=>r===void 0?i:r;if(t.paused=e(t.paused,!1),t.maxRuns=e(t.maxRuns,1/0),t.catch=e(t.catch,!1),t.unref=e(t.unref,!1),t.mode=e(t.mode,"auto"),t.alternativeWeekdays=e(t.alternativeWeekdays,!1),t.sloppyRanges=e(t.sloppyRanges,!1),t.fixedTimeRule=e(t.fixedTimeRule,"single-value"),t.allowPast=e(t.allowPast,!1),t.interval=t.interval===void 0?0:parseInt(t.interval.toString(),10),t.utcOffset=t.utcOffset===void 0?void 0:parseInt(t.utcOffset.toString(),10),t.dayOffset=t.dayOffset===void 0?0:parseInt(t.dayOffset.toString(),10),!["auto","5-part","6-part","7-part","5-or-6-parts","6-or-7-parts"].includes(t.mode))throw new Error("CronOptions: mode must be one of 'auto', '5-part', '6-part', '7-part', '5-or-6-parts', or '6-or-7-parts'.");if(!["single-value","no-wildcard"].includes(t.fixedTimeRule))throw new Error("CronOptions: fixedTimeRule must be one of 'single-value' or 'no-wildcard'.");t.timezone===""&&(t.timezone=void 0);let n=t.timezone??t.utcOffset;if(t.startAt&&(t.startAt=_e(new p(t.startAt,n))),t.stopAt&&(t.stopAt=_e(new p(t.stopAt,n))),t.interval!==null){if(isNaN(t.interval))throw new Error("CronOptions: Supplied value for interval is not a number");if(t.interval<0)throw new Error("CronOptions: Supplied value for interval can not be negative")}if(t.utcOffset!==void 0){if(isNaN(t.utcOffset))throw new Error("CronOptions: Invalid value passed for utcOffset, should be number representing minutes offset from UTC.");if(t.utcOffset<-870||t.utcOffset>870)throw new Error("CronOptions: utcOffset out of bounds.");if(t.utcOffset!==void 0&&t.timezone)throw new Error("CronOptions: Combining 'utcOffset' with 'timezone' is not allowed.")}if(t.unref!==!0&&t.unref!==!1)throw new Error("CronOptions: Unref should be either true, false or undefined(false).");if(t.dayOffset!==void 0&&t.dayOffset!==0&&isNaN(t.dayOffset))throw new Error("CronOptions: Invalid value passed for dayOffset, should be a number representing days to offset.");return t}function _e(t){return t.ms?(t.ms=0,new p(new Date(t.getTime()+1e3),t.tz)):t}function y(t){return typeof t=="function"}function et(t){return y(t)}function tt(t){typeof Deno<"u"&&typeof Deno.unrefTimer<"u"?Deno.unrefTimer(t):t&&typeof t.unref<"u"&&t.unref()}var Y=1440*60*1e3,fe=30*1e3,k=[],Le=class{name;options;_states;fn;_startAtRoundingMs=0;getTz(){return this.options.timezone??this.options.utcOffset}applyDayOffset(t){let e=this._offsetMs();return e?new Date(t.getTime()+e):t}_offsetMs(){return(this.options.dayOffset??0)*Y}get _startAt(){return this.options.startAt}get _stopAt(){return this.options.stopAt}_nextTarget(t,e){let n=this._offsetMs(),r=this._next(this._shift(t),new Date(e.getTime()-n),{startAt:this._shift(this._startAt),stopAt:this._shift(this._stopAt)});return r?this.applyDayOffset(r.getDate(!1)):null}_previousTarget(t,e){let n=this._toMs(t??e)-this._offsetMs(),r=this._previous(new Date(n),{startAt:this._shift(this._startAt),stopAt:this._shift(this._stopAt)});return r?this.applyDayOffset(r.getDate(!1)):null}_shift(t){if(t!=null)return new p(new Date(this._toMs(t)-this._offsetMs()),this.getTz())}constructor(t,e,n){let r,i;if(y(e))i=e;else if(typeof e=="object")r=e;else if(e!==void 0)throw new Error("Cron: Invalid argument passed for optionsIn. Should be one of function, or object (options).");if(y(n))i=n;else if(typeof n=="object")r=n;else if(n!==void 0)throw new Error("Cron: Invalid argument passed for funcIn. Should be one of function, or object (options).");this.name=r?.name;let a=r?.startAt;this.options=Ze(r),a&&this._startAt&&(this._startAtRoundingMs=this._startAt.getTime()-new p(a,this.getTz()).getTime());let s=!!t&&(t instanceof Date||typeof t=="string"&&t.indexOf(":")>0);if(this._states={kill:!1,blocking:!1,previousRun:void 0,currentRun:void 0,once:void 0,currentTimeout:void 0,maxRuns:r?r.maxRuns:void 0,paused:r?r.paused:!1,pattern:s?new he("* * * * *",void 0,{mode:"auto"}):new he(t,this.options.timezone,{mode:this.options.mode,alternativeWeekdays:this.options.alternativeWeekdays,sloppyRanges:this.options.sloppyRanges,fixedTimeRule:this.options.fixedTimeRule})},s&&(this._states.once=new p(t,this.getTz())),this.name){if(k.find(o=>o.name===this.name))throw new Error("Cron: Tried to initialize new named job '"+this.name+"', but name already taken.");k.push(this)}return i!==void 0&&et(i)&&(this.fn=i,this.schedule()),this}nextRun(t){return this._nextTarget(t,new Date)}nextRuns(t,e){this._states.maxRuns!==void 0&&t>this._states.maxRuns&&(t=this._states.maxRuns);let n=e||this._states.currentRun||void 0;return this._enumerateRuns(t,n,"next")}previousRuns(t,e){return this._enumerateRuns(t,e||void 0,"previous")}enumerate(t){return new nt(this,t)}_enumerateRuns(t,e,n){let r=[],i=new Date,a=e;for(;t-- >0;){let s=n==="next"?this._nextTarget(a,i):this._previousTarget(a,i);if(!s)break;r.push(s),a=s}return r}match(t){if(this._states.once){let n=new p(t,this.getTz());n.ms=0;let r=new p(this._states.once,this.getTz());return r.ms=0,n.getTime()===r.getTime()}let e=new p(t,this.getTz());return e.ms=0,e.match(this._states.pattern,this.options)}getPattern(){if(!this._states.once)return this._states.pattern?this._states.pattern.pattern:void 0}getOnce(){return this._states.once?this._states.once.getDate():null}isRunning(){return!this._states.paused&&!this._states.kill&&this.fn!==void 0&&this._nextTarget(this._states.currentRun,new Date)!==null}isStopped(){return this._states.kill}isBusy(){return this._states.blocking}currentRun(){return this._states.currentRun?this._states.currentRun.getDate():null}previousRun(){return this._states.previousRun?this._states.previousRun.getDate():null}msToNext(t){let e=new Date,n=this._nextTarget(t,e);return n?n.getTime()-this._toMs(t??e):null}stop(){this._states.kill=!0,this._states.currentTimeout&&clearTimeout(this._states.currentTimeout);let t=k.indexOf(this);t>=0&&k.splice(t,1)}pause(){return this._states.paused=!0,!this._states.kill}resume(){return this._states.paused=!1,!this._states.kill}schedule(t){return this._schedule(t)}_schedule(t,e){if(t&&this.fn)throw new Error("Cron: It is not allowed to schedule two functions using the same Croner instance.");t&&(this.fn=t);let n=e??new Date,r=this._nextTarget(void 0,n),i=r?r.getTime()-n.getTime():null,a=this._states.currentRun;a&&a.getTime()>n.getTime()&&(a=void 0);let s=this._nextTarget(a,n);return i===null||isNaN(i)||s===null?this:(i>fe&&(i=fe),i<0&&(i=this._states.paused?1e3:0),this._states.currentTimeout=setTimeout(()=>this._checkTrigger(s),i),this._states.currentTimeout&&this.options.unref&&tt(this._states.currentTimeout),this)}async _trigger(t=new Date){this._states.blocking=!0,this._states.currentRun=new p(t,this.getTz());try{if(this.options.catch)try{this.fn!==void 0&&await this.fn(this,this.options.context)}catch(e){if(y(this.options.catch))try{Promise.resolve(this.options.catch(e,this)).catch(()=>{})}catch{}}else this.fn!==void 0&&await this.fn(this,this.options.context)}finally{this._states.previousRun=new p(t,this.getTz()),this._states.blocking=!1}}async trigger(){await this._trigger()}runsLeft(){return this._states.maxRuns}_checkTrigger(t){let e=new Date,n=!this._states.paused&&e.getTime()>=t.getTime(),r=this._states.blocking&&this.options.protect;n&&!r?(this._states.maxRuns!==void 0&&this._states.maxRuns--,this._trigger(e)):n&&r&&y(this.options.protect)&&setTimeout(()=>this.options.protect(this),0),this._schedule(void 0,n?void 0:e)}_next(t,e,n){let r=n?n.startAt:this._startAt,i=n?n.stopAt:this._stopAt,a=!!t,s=!!(t||this._states.currentRun),o=!1;!t&&r&&this.options.interval&&(t=this._calculatePreviousRun(r,e),t&&(s=!0),o=!t);let l=t??e??new Date,d=this._toMs(l);t=new p(l,this.getTz()),r&&d<r.getTime()&&(t=o?r:new p(new Date(r.getTime()-1e3),this.getTz()),d=t.getTime());let u=this._states.once||new p(t,this.getTz());if(!o&&u!==this._states.once&&(u=this._findOccurrence(t,d,1,s)),this._states.once){let c=this._states.once.getTime(),h=d-c;if(r&&c<r.getTime()-this._startAtRoundingMs||this._states.currentRun&&this.applyDayOffset(this._states.once.getDate()).getTime()<=this._states.currentRun.getTime()||(a?h>=0:h>1e3&&!this.options.allowPast))return null}return u===null||this._states.maxRuns!==void 0&&this._states.maxRuns<=0||this._states.kill||i&&u.getTime()>=i.getTime()?null:u}_previous(t,e){let n=this._toMs(t??new Date);if(e.stopAt&&n>e.stopAt.getTime()&&(n=e.stopAt.getTime()),this._states.once)return this._states.once.getTime()<n?this._states.once:null;let r=this._findOccurrence(new p(new Date(n),this.getTz()),n,-1);return r===null||e.startAt&&r.getTime()<e.startAt.getTime()?null:r}_toMs(t){if(t instanceof Date)return t.getTime();let e=new p(t,this.getTz());return e.getTime()+(typeof e.tz=="string"?e.ms:0)}_findOccurrence(t,e,n,r=!1){let i=this.options.interval??0;if(i>1&&(n===-1||r)){e+=(i-1)*1e3*n;let u=new Date(e);if(isNaN(u.getTime())||(t=new p(u,this.getTz()),!(t.year>=1&&t.year<=9999)))return null;r=!1}let a=this._walk(t,e,n,r),s=this.getTz();if(this._states.pattern.isFixedTime&&n===1||typeof s=="number"||ze(e,s)!==(n===1?"earlier":"later"))return a;let o=Math.floor(e/1e3)*1e3,l=n===1?B(o,o+Y,s):B(o-Y,o,s)-1e3;if(a&&(l-a.getTime())*n>0)return a;let d=this._walk(new p(new Date(l),s),l-n,n,!1,!0);return!a||!d?a??d:(a.getTime()-d.getTime())*n>0?d:a}_walk(t,e,n,r,i=!1){let a=this._states.pattern,s=(l,d)=>n===1?l.increment(a,this.options,d):l.decrement(a,this.options,d),o=new p(t,this.getTz());for((!i||!o.match(a,this.options))&&(o=s(o,r));o;){let l=this._runAt(o,e,n);if(l)return new p(l,this.getTz());o=s(o,!1)}return null}_runAt(t,e,n){let r=u=>(u.getTime()-e)*n>0,i=t.tz;if(typeof i=="number"){let u=t.getDate();return r(u)?u:null}let a=O(t.year,t.month+1,t.day,t.hour,t.minute,t.second,i),s=K(a),o=this._states.pattern.isFixedTime;if(s.kind==="single")return r(s.date)?s.date:null;if(s.kind==="ambiguous"){let{earlier:u,later:c}=s;return(o?[u]:n===1?[u,c]:[c,u]).find(r)??null}if(!o)return null;let l=new Date(B(s.before.getTime(),s.after.getTime(),i)),d=N(l,i);return d.y===a.y&&d.m===a.m&&d.d===a.d&&r(l)?l:null}_calculatePreviousRun(t,e){let n=new p(e,this.getTz()).getTime();if(t.getTime()>n)return;let r=this.options.interval*1e3,i=t;for(;i.getTime()+r<=n;){let a=this._findOccurrence(i,i.getTime(),1,!0);if(a===null)break;i=a}return i}},nt=class{cron;cursor;now;done;initialMaxRuns;remainingRuns;constructor(t,e){this.cron=t,this.initialMaxRuns=t.runsLeft()??1/0,this.reset(e)}next(){if(this.done||this.remainingRuns<=0)return this.done=!0,{value:void 0,done:!0};let t=this.cron._nextTarget(this.cursor,this.now);return t===null?(this.done=!0,{value:void 0,done:!0}):(this.cursor=t,this.remainingRuns--,{value:t,done:!1})}peek(){return this.done||this.remainingRuns<=0?null:this.cron._nextTarget(this.cursor,this.now)}reset(t){this.cursor=t instanceof Date?new Date(t.getTime()):t??void 0,this.now=new Date,this.done=!1,this.remainingRuns=this.initialMaxRuns}[Symbol.iterator](){return this}};var rt=300,ge=1e3,it=2e3,at=500;function Re(t){return t.cron!==void 0?{kind:"cron",cron:new Le(t.cron,{timezone:t.timezone,paused:!0})}:t.interval_minutes!==void 0?{kind:"interval",step:t.interval_minutes*60}:null}function C(t,e){let n=t.nextRun(new Date(Math.floor(e)*1e3));return n===null?null:n.getTime()/1e3}function st(t,e){return C(t,Math.ceil(e)-1)}function L(t,e,n){return t+n*e}function Ae(t,e,n){let r=Math.floor((n-t)/e);for(let i=0;i<4&&L(t,e,r+1)<=n;i++)r++;for(let i=0;i<4&&L(t,e,r)>n;i++)r--;return r}function ot(t,e,n){let r=Math.ceil((n-t)/e);for(let i=0;i<4&&L(t,e,r-1)>=n;i++)r--;for(let i=0;i<4&&L(t,e,r)<n;i++)r++;return r}function lt(t,e,n){let r=L(t,e,Ae(t,e,n)+1);return r>n?r:n+Math.max(e,Math.abs(n)*Number.EPSILON)}function ye(t,e,n){if(!t.enabled)return null;let r=Re(t);return r===null?null:r.kind==="cron"?C(r.cron,e):n===null?e:n+r.step}function Ln(t,e,n){if(!t.enabled)return{run:[],skipped:0,nextRunAt:null};let r=Re(t);if(r===null)return{run:[],skipped:0,nextRunAt:null};if(e>n)return{run:[],skipped:0,nextRunAt:e};let i=t.catch_up_window_minutes*60,a=n-i,s=t.catch_up==="all"?ge:1,o=r.kind==="interval"?dt(r.step,e,n,a,s):ut(r.cron,e,n,a,s),l=ct(t.catch_up,o.recent,n,i);return{run:l,skipped:o.count-l.length,nextRunAt:o.nextRunAt}}function dt(t,e,n,r,i){let a=Math.max(0,Ae(e,t,n)),s=Math.max(0,ot(e,t,r)),o=Math.max(s,a-i+1),l=[];for(let d=o;d<=a;d++)l.push(L(e,t,d));return{recent:l,count:a+1,nextRunAt:lt(e,t,n)}}function ut(t,e,n,r,i){let a=0;if(e<r){let c=e;for(;c!==null&&c<r&&a<at;)a++,c=C(t,c)}let s=[],o=e>=r?e:st(t,r);for(;o!==null&&o<=n&&s.length<it;)s.push(o),o=C(t,o);if(o===null||o>n)return{recent:s.slice(-i),count:a+s.length,nextRunAt:o};let l=s[s.length-1]??-1/0,d=t.previousRuns(i,new Date(Math.floor(n)*1e3+1)).map(c=>c.getTime()/1e3).filter(c=>c<=n&&c>l).reverse();return{recent:[...s,...d].slice(-i),count:a+s.length+d.length,nextRunAt:C(t,n)}}function ct(t,e,n,r){let i=e[e.length-1];if(i===void 0)return[];switch(t){case"all":return e.slice(-ge);case"latest":return[i];case"none":return n-i<=Math.min(rt,r)?[i]:[]}}var Oe=`id, tenant_id, name, description, steps, impact_class, max_run_attempts, is_active,
  schedule_config, last_run_at, next_run_at, created_at, updated_at, updated_by`;function Et(t,e,n,r){return e&&t.enabled?ye(t,n,r):null}async function Dn(t,e,n,r){let{rows:i}=await t.query(`SELECT ${Oe} FROM workflows WHERE tenant_id = $1 AND name = $2 FOR UPDATE`,[e,n]),a=i[0];if(!a)return;if(a.is_active===r)return a;let s=await W(t),o=Et(a.schedule_config,r,s,a.last_run_at);return(await t.query(`UPDATE workflows SET is_active = $2, next_run_at = $3, updated_at = $4 WHERE id = $1 RETURNING ${Oe}`,[a.id,r,o,s])).rows[0]}export{ht as a,M as b,q as c,W as d,le as e,Ge as f,Jt as g,Zt as h,en as i,tn as j,nn as k,rn as l,an as m,sn as n,on as o,cn as p,En as q,pn as r,hn as s,Le as t,Ln as u,Dn as v,ke as w,Tt as x,mt as y,Ye as z,je as A,Wt as B,qt as C,P as D,Gt as E,Xt as F};
