import { createRequire } from 'module'; const require = createRequire(import.meta.url);
import{c as d}from"./chunk-IHXZVKEQ.js";async function g(t,e){await t.query("INSERT INTO audit_log (tenant_id, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5::jsonb)",[e.tenant_id,e.actor,e.action,e.subject,JSON.stringify(e.detail??{})])}import{createHash as v}from"node:crypto";var i=`id, tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
  status, requested_by, requested_at, expires_at, processed_at, processed_by, reason, execution_started_at, execution_finished_at,
  required_approvals, approvals_count, reminded_at, previous_id, source, route, stage, reminders_sent`,E=`SELECT ${i} FROM approval_queue WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)`,b=`SELECT ${i} FROM approval_queue
     WHERE tenant_id = $1 AND status = $2 AND ($4::float8 IS NULL OR (requested_at, id) > ($4::float8, $5::uuid))
     ORDER BY requested_at, id LIMIT $3`;var R="levqor_approvals";function m(t){return v("sha256").update(d(t)).digest("hex")}async function S(t,e){let{rows:r}=await t.query(`INSERT INTO approval_queue (tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload,
       payload_hash, requested_by, expires_at, required_approvals, source, previous_id, route)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, extract(epoch FROM now()) + $11, $12, $13, $14,
       -- The tenant's route for this action type, else its catch-all: a snapshot, so later edits change no waiting request.
       (SELECT jsonb_build_object('stages', stages, 'remind_every_seconds', remind_every_seconds, 'remind_at_fraction', remind_at_fraction)
        FROM approval_routes WHERE tenant_id = $1 AND action_type IN ($5, '*') ORDER BY action_type = '*' LIMIT 1))
     RETURNING ${i}`,[e.tenant_id,e.run_id,e.workflow_id,e.step_index,e.action_type,e.impact_class,e.summary,JSON.stringify(e.payload),m(e.payload),e.requested_by,e.ttl_seconds,e.required_approvals??1,e.source??"workflow",e.previous_id??null]),a=r[0];return await u(t,a,"requested",{summary:a.summary,expires_at:a.expires_at}),a}async function $(t,e,r){if(!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(e))return;let{rows:a}=await t.query(E,[e,r??null]);return a[0]}async function x(t,e,r){let{rows:a}=await t.query(`SELECT ${i} FROM approval_queue WHERE run_id = $1 AND step_index = $2 ORDER BY requested_at DESC, id LIMIT 1`,[e,r]);return a[0]}async function u(t,e,r,a={}){let{rows:o}=await t.query("INSERT INTO approval_events (tenant_id, approval_id, type, payload) VALUES ($1, $2, $3, $4::jsonb) RETURNING id::text AS id",[e.tenant_id,e.id,r,JSON.stringify(a)]),n=o[0]?.id??"0";return await t.query("SELECT pg_notify($1, $2)",[R,JSON.stringify({event_id:n,type:r,approval_id:e.id,tenant_id:e.tenant_id})]),n}var l=i.replace(/(\w+)/g,"q.$1"),_="coalesce($2::float8, extract(epoch FROM now()))";async function N(t,e=500,r){let{rows:a}=await t.query(`WITH c AS (SELECT ${_} AS now),
     due AS (
       SELECT a.id FROM approval_queue a, c
       WHERE a.status = 'pending' AND a.expires_at > c.now AND (
         (a.requested_at + coalesce(CASE WHEN a.route IS NULL THEN 0.8 ELSE (a.route ->> 'remind_at_fraction')::float8 END, 2)
            * (a.expires_at - a.requested_at)) BETWEEN coalesce(a.reminded_at, a.requested_at) + 1e-6 AND c.now
         OR floor((c.now - a.requested_at) / (a.route ->> 'remind_every_seconds')::float8)
            > floor((coalesce(a.reminded_at, a.requested_at) - a.requested_at) / (a.route ->> 'remind_every_seconds')::float8))
       ORDER BY a.expires_at LIMIT $1 FOR UPDATE OF a SKIP LOCKED)
     UPDATE approval_queue q SET reminded_at = c.now, reminders_sent = q.reminders_sent + 1
     FROM due, c WHERE q.id = due.id
     RETURNING ${l}, c.now AS now`,[e,r??null]);for(let o of a)await u(t,o,"reminder",{n:o.reminders_sent,expires_at:o.expires_at,remaining_seconds:Math.max(0,Math.round(o.expires_at-o.now)),summary:o.summary});return a.map(({now:o,...n})=>n)}async function T(t,e=500,r){let a=`(SELECT count(*)::int FROM jsonb_array_elements(a.route -> 'stages') s
                          WHERE (s ->> 'after_seconds')::float8 <= c.now - a.requested_at)`,{rows:o}=await t.query(`WITH c AS (SELECT ${_} AS now),
     due AS (
       SELECT a.id, a.stage AS previous_stage, ${a} AS stage FROM approval_queue a, c
       WHERE a.status = 'pending' AND a.route IS NOT NULL AND a.expires_at > c.now AND ${a} > a.stage
       ORDER BY a.requested_at LIMIT $1 FOR UPDATE OF a SKIP LOCKED)
     UPDATE approval_queue q SET stage = due.stage FROM due WHERE q.id = due.id
     RETURNING ${l}, due.previous_stage`,[e,r??null]);for(let n of o){let p=(n.route?.stages??[]).slice(n.previous_stage,n.stage);await u(t,n,"escalated",{stage:n.stage,stages:p.map(s=>s.name),approvers:p.flatMap(s=>s.approvers),summary:n.summary})}return o.map(({previous_stage:n,...p})=>p)}async function O(t,e,r,a,o,n={}){let{rows:p}=await t.query(`UPDATE approval_queue SET status = $2, processed_at = extract(epoch FROM now()), processed_by = $3, reason = $4
     WHERE id = $1 AND status = 'pending' RETURNING ${i}`,[e,r,a,o]),s=p[0];return s&&await u(t,s,r,{by:a,...n,reason:o}),s}async function q(t,e,r=["approved"]){return(await t.query(`UPDATE approval_queue SET execution_started_at = extract(epoch FROM now())
     WHERE id = $1 AND status = ANY($2::text[]) AND execution_started_at IS NULL`,[e,r])).rowCount===1}async function L(t,e){await t.query("UPDATE approval_queue SET execution_finished_at = extract(epoch FROM now()) WHERE id = $1",[e])}async function D(t,e=500){let{rows:r}=await t.query(`UPDATE approval_queue SET status = 'expired', processed_at = extract(epoch FROM now()), processed_by = 'levqor:expiry',
       reason = 'no decision before ' || to_char(to_timestamp(expires_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
     WHERE id IN (SELECT id FROM approval_queue WHERE status = 'pending' AND expires_at <= extract(epoch FROM now())
                  ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING ${i}`,[e]);for(let a of r)await u(t,a,"expired",{reason:a.reason});return r}async function I(t,e){let{rows:r}=await t.query(`SELECT approvers, groups, required_approvals, allow_self_approval, ttl_seconds, updated_at, updated_by
     FROM approval_policies WHERE tenant_id = $1`,[e]);return r[0]}var P=["A","B","C"],c={noop:"A",log:"A",transform:"A",delay:"A",set_workflow_active:"B",http:"C",email:"C",slack_message:"C",github:"C"},y={A:0,B:1,C:2};function h(...t){let e="A";for(let r of t)r&&y[r]>y[e]&&(e=r);return e}function M(t){return Object.hasOwn(c,t)?c[t]:void 0}var U={approvers:[],groups:{},required_approvals:1,allow_self_approval:!1,ttl_seconds:86400};export{P as a,c as b,h as c,M as d,g as e,m as f,S as g,$ as h,x as i,N as j,T as k,O as l,q as m,L as n,D as o,I as p,U as q};
