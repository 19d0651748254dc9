TABLE alert_evaluations
  tenant_id uuid NOT NULL
  evaluated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  evaluated_by text NOT NULL
  CONSTRAINT alert_evaluations_pkey PRIMARY KEY (tenant_id)
  CONSTRAINT alert_evaluations_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE alert_rules
  tenant_id uuid NOT NULL
  rule text NOT NULL
  threshold double precision NOT NULL
  enabled boolean NOT NULL DEFAULT true
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_by text NOT NULL
  CONSTRAINT alert_rules_pkey PRIMARY KEY (tenant_id, rule)
  CONSTRAINT alert_rules_rule_check CHECK ((rule = ANY (ARRAY['scheduler_stale'::text, 'approval_queue_depth'::text, 'failure_rate'::text])))
  CONSTRAINT alert_rules_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT alert_rules_threshold_check CHECK ((threshold >= (0)::double precision))
TABLE alerts
  id bigint NOT NULL IDENTITY
  kind text NOT NULL
  status text NOT NULL
  message text NOT NULL
  detail jsonb NOT NULL DEFAULT '{}'::jsonb
  fired_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  resolved_at double precision
  delivered_at double precision
  resolution_delivered_at double precision
  tenant_id uuid NOT NULL
  resolved_message text
  resolved_detail jsonb
  CONSTRAINT alerts_pkey PRIMARY KEY (id)
  CONSTRAINT alerts_status_check CHECK ((status = ANY (ARRAY['firing'::text, 'resolved'::text])))
  CONSTRAINT alerts_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE api_tokens
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  name text NOT NULL
  token_hash text NOT NULL
  scopes text[] NOT NULL DEFAULT '{}'::text[]
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  revoked_at double precision
  last_used_at double precision
  CONSTRAINT api_tokens_pkey PRIMARY KEY (id)
  CONSTRAINT api_tokens_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT api_tokens_tenant_id_name_key UNIQUE (tenant_id, name)
  CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
TABLE approval_events
  id bigint NOT NULL IDENTITY
  tenant_id uuid NOT NULL
  approval_id uuid NOT NULL
  type text NOT NULL
  payload jsonb NOT NULL DEFAULT '{}'::jsonb
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT approval_events_approval_id_fkey FOREIGN KEY (approval_id) REFERENCES approval_queue(id) ON DELETE CASCADE
  CONSTRAINT approval_events_pkey PRIMARY KEY (id)
  CONSTRAINT approval_events_type_check CHECK ((type = ANY (ARRAY['requested'::text, 'vote'::text, 'approved'::text, 'rejected'::text, 'expired'::text, 'reminder'::text, 'escalated'::text])))
TABLE approval_policies
  tenant_id uuid NOT NULL
  approvers text[] NOT NULL DEFAULT '{}'::text[]
  groups jsonb NOT NULL DEFAULT '{}'::jsonb
  required_approvals integer NOT NULL DEFAULT 1
  allow_self_approval boolean NOT NULL DEFAULT false
  ttl_seconds integer NOT NULL DEFAULT 86400
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_by text
  CONSTRAINT approval_policies_pkey PRIMARY KEY (tenant_id)
  CONSTRAINT approval_policies_required_approvals_check CHECK (((required_approvals >= 1) AND (required_approvals <= 10)))
  CONSTRAINT approval_policies_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT approval_policies_ttl_seconds_check CHECK (((ttl_seconds >= 60) AND (ttl_seconds <= 7776000)))
TABLE approval_queue
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  run_id uuid
  workflow_id uuid
  step_index integer
  action_type text NOT NULL
  impact_class text NOT NULL
  summary text NOT NULL
  payload jsonb NOT NULL
  payload_hash text NOT NULL
  status text NOT NULL DEFAULT 'pending'::text
  requested_by text NOT NULL
  requested_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  expires_at double precision NOT NULL
  processed_at double precision
  processed_by text
  reason text
  execution_started_at double precision
  execution_finished_at double precision
  required_approvals integer NOT NULL DEFAULT 1
  approvals_count integer NOT NULL DEFAULT 0
  reminded_at double precision
  previous_id uuid
  source text NOT NULL DEFAULT 'workflow'::text
  slack_channel text
  slack_ts text
  slack_rendered text
  slack_reminder_ts text
  slack_attempts integer NOT NULL DEFAULT 0
  slack_retry_at double precision
  slack_error text
  route jsonb
  stage integer NOT NULL DEFAULT 1
  reminders_sent integer NOT NULL DEFAULT 0
  slack_stage integer NOT NULL DEFAULT 1
  slack_reminders integer NOT NULL DEFAULT 0
  CONSTRAINT approval_queue_check CHECK (((status = 'pending'::text) = (processed_at IS NULL)))
  CONSTRAINT approval_queue_impact_class_check CHECK ((impact_class = ANY (ARRAY['A'::text, 'B'::text, 'C'::text])))
  CONSTRAINT approval_queue_pkey PRIMARY KEY (id)
  CONSTRAINT approval_queue_previous_id_fkey FOREIGN KEY (previous_id) REFERENCES approval_queue(id) ON DELETE SET NULL
  CONSTRAINT approval_queue_run_id_fkey FOREIGN KEY (run_id) REFERENCES workflow_runs(id) ON DELETE SET NULL
  CONSTRAINT approval_queue_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'approved'::text, 'rejected'::text, 'expired'::text])))
  CONSTRAINT approval_queue_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT approval_queue_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES workflows(id) ON DELETE SET NULL
TABLE approval_routes
  tenant_id uuid NOT NULL
  action_type text NOT NULL DEFAULT '*'::text
  stages jsonb NOT NULL
  remind_every_seconds integer
  remind_at_fraction double precision
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_by text NOT NULL
  CONSTRAINT approval_routes_pkey PRIMARY KEY (tenant_id, action_type)
  CONSTRAINT approval_routes_remind_at_fraction_check CHECK (((remind_at_fraction > (0)::double precision) AND (remind_at_fraction < (1)::double precision)))
  CONSTRAINT approval_routes_remind_every_seconds_check CHECK (((remind_every_seconds >= 60) AND (remind_every_seconds <= 604800)))
  CONSTRAINT approval_routes_stages_check CHECK (((jsonb_typeof(stages) = 'array'::text) AND ((jsonb_array_length(stages) >= 1) AND (jsonb_array_length(stages) <= 10))))
  CONSTRAINT approval_routes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE approval_votes
  id bigint NOT NULL IDENTITY
  tenant_id uuid NOT NULL
  approval_id uuid NOT NULL
  actor text NOT NULL
  channel text NOT NULL
  vote text NOT NULL
  reason text
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  person text
  CONSTRAINT approval_votes_approval_id_actor_key UNIQUE (approval_id, actor)
  CONSTRAINT approval_votes_approval_id_fkey FOREIGN KEY (approval_id) REFERENCES approval_queue(id) ON DELETE CASCADE
  CONSTRAINT approval_votes_pkey PRIMARY KEY (id)
  CONSTRAINT approval_votes_vote_check CHECK ((vote = ANY (ARRAY['approve'::text, 'reject'::text])))
TABLE approval_webhooks
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  name text NOT NULL
  url text NOT NULL
  secret_name text NOT NULL
  events text[] NOT NULL DEFAULT '{}'::text[]
  cursor bigint NOT NULL DEFAULT 0
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  created_by text NOT NULL
  CONSTRAINT approval_webhooks_pkey PRIMARY KEY (id)
  CONSTRAINT approval_webhooks_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT approval_webhooks_tenant_id_name_key UNIQUE (tenant_id, name)
TABLE audit_log
  id bigint NOT NULL IDENTITY
  tenant_id uuid NOT NULL
  actor text NOT NULL
  action text NOT NULL
  subject text NOT NULL
  detail jsonb NOT NULL DEFAULT '{}'::jsonb
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT audit_log_pkey PRIMARY KEY (id)
TABLE decision_links
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  approval_id uuid NOT NULL
  identity text NOT NULL
  payload_hash text NOT NULL
  token_hash text NOT NULL
  expires_at double precision NOT NULL
  used_at double precision
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT decision_links_approval_id_fkey FOREIGN KEY (approval_id) REFERENCES approval_queue(id) ON DELETE CASCADE
  CONSTRAINT decision_links_pkey PRIMARY KEY (id)
  CONSTRAINT decision_links_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT decision_links_token_hash_key UNIQUE (token_hash)
TABLE engagement_events
  id bigint NOT NULL IDENTITY
  tenant_id uuid NOT NULL
  user_id text NOT NULL
  event text NOT NULL
  properties jsonb NOT NULL DEFAULT '{}'::jsonb
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  event_id text
  CONSTRAINT engagement_events_pkey PRIMARY KEY (id)
  CONSTRAINT engagement_events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE github_trust
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  repository text NOT NULL
  ref text NOT NULL
  environment text
  action_types text[] NOT NULL
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  created_by text NOT NULL
  CONSTRAINT github_trust_action_types_check CHECK ((cardinality(action_types) > 0))
  CONSTRAINT github_trust_pkey PRIMARY KEY (id)
  CONSTRAINT github_trust_repository_check CHECK ((repository = lower(repository)))
  CONSTRAINT github_trust_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE levqor_migrations
  id integer NOT NULL
  name text NOT NULL
  checksum text NOT NULL
  applied_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT levqor_migrations_pkey PRIMARY KEY (id)
TABLE maintenance_log
  task text NOT NULL
  day date NOT NULL
  started_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  finished_at double precision
  result jsonb NOT NULL DEFAULT '{}'::jsonb
  CONSTRAINT maintenance_log_pkey PRIMARY KEY (task, day)
TABLE marketing_campaigns
  tenant_id uuid NOT NULL
  campaign text NOT NULL
  week text NOT NULL
  workflow_id uuid
  run_id uuid
  audience integer NOT NULL
  evidence jsonb NOT NULL DEFAULT '{}'::jsonb
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT marketing_campaigns_pkey PRIMARY KEY (tenant_id, campaign, week)
  CONSTRAINT marketing_campaigns_run_id_fkey FOREIGN KEY (run_id) REFERENCES workflow_runs(id) ON DELETE SET NULL
  CONSTRAINT marketing_campaigns_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT marketing_campaigns_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES workflows(id) ON DELETE SET NULL
TABLE notify_cursors
  name text NOT NULL
  last_event_id bigint NOT NULL DEFAULT 0
  CONSTRAINT notify_cursors_pkey PRIMARY KEY (name)
TABLE people
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  handle text NOT NULL
  display_name text NOT NULL
  email text
  role text NOT NULL DEFAULT 'approver'::text
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_by text
  CONSTRAINT people_display_name_check CHECK (((length(display_name) >= 1) AND (length(display_name) <= 200)))
  CONSTRAINT people_email_check CHECK (((email IS NULL) OR (email = lower(email))))
  CONSTRAINT people_handle_check CHECK ((handle ~ '^[a-z0-9][a-z0-9._-]{0,62}$'::text))
  CONSTRAINT people_pkey PRIMARY KEY (id)
  CONSTRAINT people_role_check CHECK ((role = ANY (ARRAY['viewer'::text, 'approver'::text, 'admin'::text])))
  CONSTRAINT people_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT people_tenant_id_handle_key UNIQUE (tenant_id, handle)
TABLE people_settings
  tenant_id uuid NOT NULL
  slack_autolink boolean NOT NULL DEFAULT false
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_by text
  CONSTRAINT people_settings_pkey PRIMARY KEY (tenant_id)
  CONSTRAINT people_settings_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE person_identities
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  person_id uuid NOT NULL
  identity text NOT NULL
  slack_team_id text
  linked_by text NOT NULL
  linked_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT person_identities_person_id_fkey FOREIGN KEY (person_id) REFERENCES people(id) ON DELETE CASCADE
  CONSTRAINT person_identities_pkey PRIMARY KEY (id)
  CONSTRAINT person_identities_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT person_identities_tenant_id_identity_key UNIQUE (tenant_id, identity)
TABLE request_buckets
  minute bigint NOT NULL
  instance text NOT NULL
  requests integer NOT NULL DEFAULT 0
  errors integer NOT NULL DEFAULT 0
  latency_hist integer[] NOT NULL
  CONSTRAINT request_buckets_pkey PRIMARY KEY (minute, instance)
TABLE scaling_state
  id integer NOT NULL DEFAULT 1
  level text NOT NULL
  changed_at double precision NOT NULL
  decided_at double precision NOT NULL
  decision jsonb NOT NULL DEFAULT '{}'::jsonb
  CONSTRAINT scaling_state_id_check CHECK ((id = 1))
  CONSTRAINT scaling_state_level_check CHECK ((level = ANY (ARRAY['low'::text, 'normal'::text, 'high'::text, 'critical'::text])))
  CONSTRAINT scaling_state_pkey PRIMARY KEY (id)
TABLE scheduler_claims
  id uuid NOT NULL
  owner text NOT NULL
  claimed_at double precision NOT NULL
  lease_expires_at double precision NOT NULL
  run_ids uuid[] NOT NULL
  tenant_ids uuid[] NOT NULL
  workflow_ids uuid[] NOT NULL
  slots double precision[] NOT NULL
  CONSTRAINT scheduler_claims_check CHECK (((cardinality(run_ids) = cardinality(workflow_ids)) AND (cardinality(run_ids) = cardinality(tenant_ids)) AND (cardinality(run_ids) = cardinality(slots))))
  CONSTRAINT scheduler_claims_pkey PRIMARY KEY (id)
TABLE scheduler_instances
  id text NOT NULL
  hostname text NOT NULL
  pid integer NOT NULL
  started_at double precision NOT NULL
  last_tick_at double precision NOT NULL
  stopped_at double precision
  last_summary jsonb NOT NULL DEFAULT '{}'::jsonb
  CONSTRAINT scheduler_instances_pkey PRIMARY KEY (id)
TABLE secrets
  tenant_id uuid NOT NULL
  name text NOT NULL
  ciphertext text NOT NULL
  wrapped_key text NOT NULL
  key_id text NOT NULL
  version integer NOT NULL DEFAULT 1
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_by text
  CONSTRAINT secrets_name_check CHECK ((name ~ '^[A-Z][A-Z0-9_]{0,63}$'::text))
  CONSTRAINT secrets_pkey PRIMARY KEY (tenant_id, name)
  CONSTRAINT secrets_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE slack_deliveries
  key text NOT NULL
  team_id text
  kind text NOT NULL
  received_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT slack_deliveries_pkey PRIMARY KEY (key)
TABLE slack_feed_cursor
  name text NOT NULL
  last_event_id bigint NOT NULL DEFAULT 0
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT slack_feed_cursor_pkey PRIMARY KEY (name)
TABLE slack_posts
  tenant_id uuid NOT NULL
  kind text NOT NULL
  period text NOT NULL
  channel text NOT NULL
  status text NOT NULL DEFAULT 'posting'::text
  claimed_by text NOT NULL
  claimed_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  ts text
  posted_at double precision
  attempts integer NOT NULL DEFAULT 0
  retry_at double precision
  error text
  CONSTRAINT slack_posts_kind_check CHECK ((kind = ANY (ARRAY['weekly_report'::text, 'health_summary'::text, 'alert'::text])))
  CONSTRAINT slack_posts_pkey PRIMARY KEY (tenant_id, kind, period)
  CONSTRAINT slack_posts_status_check CHECK ((status = ANY (ARRAY['posting'::text, 'posted'::text, 'retry'::text, 'failed'::text])))
  CONSTRAINT slack_posts_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE slack_settings
  tenant_id uuid NOT NULL
  team_id text NOT NULL
  approvals_channel text NOT NULL
  reports_channel text
  alerts_channel text
  internal_channels text[] NOT NULL DEFAULT '{}'::text[]
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  report_weekday integer NOT NULL DEFAULT 1
  report_time text DEFAULT '09:00'::text
  health_time text DEFAULT '09:00'::text
  CONSTRAINT slack_settings_health_time_check CHECK ((health_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'::text))
  CONSTRAINT slack_settings_pkey PRIMARY KEY (tenant_id)
  CONSTRAINT slack_settings_report_time_check CHECK ((report_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'::text))
  CONSTRAINT slack_settings_report_weekday_check CHECK (((report_weekday >= 1) AND (report_weekday <= 7)))
  CONSTRAINT slack_settings_team_id_key UNIQUE (team_id)
  CONSTRAINT slack_settings_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
TABLE tenants
  id uuid NOT NULL DEFAULT gen_random_uuid()
  name text NOT NULL
  timezone text NOT NULL DEFAULT 'UTC'::text
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT tenants_name_check CHECK ((name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'::text))
  CONSTRAINT tenants_name_key UNIQUE (name)
  CONSTRAINT tenants_pkey PRIMARY KEY (id)
TABLE web_sessions
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  token_id uuid
  secret_hash text NOT NULL
  csrf text NOT NULL
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  expires_at double precision NOT NULL
  revoked_at double precision
  person_id uuid
  CONSTRAINT web_sessions_owner CHECK (((token_id IS NOT NULL) OR (person_id IS NOT NULL)))
  CONSTRAINT web_sessions_person_id_fkey FOREIGN KEY (person_id) REFERENCES people(id) ON DELETE CASCADE
  CONSTRAINT web_sessions_pkey PRIMARY KEY (id)
  CONSTRAINT web_sessions_secret_hash_key UNIQUE (secret_hash)
  CONSTRAINT web_sessions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT web_sessions_token_id_fkey FOREIGN KEY (token_id) REFERENCES api_tokens(id) ON DELETE CASCADE
TABLE webhook_deliveries
  id bigint NOT NULL IDENTITY
  tenant_id uuid NOT NULL
  webhook_id uuid NOT NULL
  event_id bigint NOT NULL
  status text NOT NULL DEFAULT 'pending'::text
  attempts integer NOT NULL DEFAULT 0
  next_attempt_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  last_status integer
  last_error text
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  delivered_at double precision
  CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id)
  CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text])))
  CONSTRAINT webhook_deliveries_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT webhook_deliveries_webhook_id_event_id_key UNIQUE (webhook_id, event_id)
  CONSTRAINT webhook_deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES approval_webhooks(id) ON DELETE CASCADE
TABLE workflow_events
  id bigint NOT NULL IDENTITY
  tenant_id uuid NOT NULL
  run_id uuid
  workflow_id uuid
  type text NOT NULL
  step_index integer
  payload jsonb NOT NULL DEFAULT '{}'::jsonb
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  CONSTRAINT workflow_events_pkey PRIMARY KEY (id)
  CONSTRAINT workflow_events_run_id_fkey FOREIGN KEY (run_id) REFERENCES workflow_runs(id) ON DELETE CASCADE
TABLE workflow_runs
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  workflow_id uuid NOT NULL
  status text NOT NULL
  trigger text NOT NULL
  scheduled_for double precision
  started_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  finished_at double precision
  attempt integer NOT NULL DEFAULT 1
  step_index integer NOT NULL DEFAULT 0
  context jsonb NOT NULL DEFAULT '{}'::jsonb
  error text
  lease_owner text
  lease_expires_at double precision
  started_by text
  timeline jsonb NOT NULL DEFAULT '[]'::jsonb
  CONSTRAINT workflow_runs_pkey PRIMARY KEY (id)
  CONSTRAINT workflow_runs_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'waiting_approval'::text, 'succeeded'::text, 'failed'::text, 'rejected'::text, 'expired'::text, 'cancelled'::text])))
  CONSTRAINT workflow_runs_trigger_check CHECK ((trigger = ANY (ARRAY['schedule'::text, 'manual'::text, 'api'::text])))
  CONSTRAINT workflow_runs_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES workflows(id) ON DELETE CASCADE
  CONSTRAINT workflow_runs_workflow_id_scheduled_for_key UNIQUE (workflow_id, scheduled_for)
TABLE workflows
  id uuid NOT NULL DEFAULT gen_random_uuid()
  tenant_id uuid NOT NULL
  name text NOT NULL
  description text
  steps jsonb NOT NULL
  impact_class text
  max_run_attempts integer NOT NULL DEFAULT 1
  is_active boolean NOT NULL DEFAULT true
  schedule_config jsonb NOT NULL DEFAULT '{"enabled": false}'::jsonb
  last_run_at double precision
  next_run_at double precision
  created_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_at double precision NOT NULL DEFAULT EXTRACT(epoch FROM now())
  updated_by text
  CONSTRAINT workflows_impact_class_check CHECK ((impact_class = ANY (ARRAY['A'::text, 'B'::text, 'C'::text])))
  CONSTRAINT workflows_max_run_attempts_check CHECK (((max_run_attempts >= 1) AND (max_run_attempts <= 10)))
  CONSTRAINT workflows_pkey PRIMARY KEY (id)
  CONSTRAINT workflows_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
  CONSTRAINT workflows_tenant_id_name_key UNIQUE (tenant_id, name)
INDEX CREATE UNIQUE INDEX alert_evaluations_pkey ON public.alert_evaluations USING btree (tenant_id)
INDEX CREATE UNIQUE INDEX alert_rules_pkey ON public.alert_rules USING btree (tenant_id, rule)
INDEX CREATE UNIQUE INDEX alerts_one_firing_idx ON public.alerts USING btree (tenant_id, kind) WHERE (status = 'firing'::text)
INDEX CREATE UNIQUE INDEX alerts_pkey ON public.alerts USING btree (id)
INDEX CREATE INDEX alerts_recent_idx ON public.alerts USING btree (fired_at DESC)
INDEX CREATE INDEX alerts_tenant_recent_idx ON public.alerts USING btree (tenant_id, fired_at DESC)
INDEX CREATE UNIQUE INDEX api_tokens_pkey ON public.api_tokens USING btree (id)
INDEX CREATE UNIQUE INDEX api_tokens_tenant_id_name_key ON public.api_tokens USING btree (tenant_id, name)
INDEX CREATE UNIQUE INDEX api_tokens_token_hash_key ON public.api_tokens USING btree (token_hash)
INDEX CREATE INDEX approval_events_approval_idx ON public.approval_events USING btree (approval_id)
INDEX CREATE UNIQUE INDEX approval_events_pkey ON public.approval_events USING btree (id)
INDEX CREATE INDEX approval_events_tenant_idx ON public.approval_events USING btree (tenant_id, id)
INDEX CREATE UNIQUE INDEX approval_policies_pkey ON public.approval_policies USING btree (tenant_id)
INDEX CREATE UNIQUE INDEX approval_queue_one_pending_idx ON public.approval_queue USING btree (run_id, step_index) WHERE (status = 'pending'::text)
INDEX CREATE INDEX approval_queue_pending_requested_idx ON public.approval_queue USING btree (requested_at) WHERE (status = 'pending'::text)
INDEX CREATE UNIQUE INDEX approval_queue_pkey ON public.approval_queue USING btree (id)
INDEX CREATE UNIQUE INDEX approval_queue_previous_idx ON public.approval_queue USING btree (previous_id) WHERE (previous_id IS NOT NULL)
INDEX CREATE INDEX approval_queue_processed_idx ON public.approval_queue USING btree (processed_at) WHERE (status <> 'pending'::text)
INDEX CREATE INDEX approval_queue_run_idx ON public.approval_queue USING btree (run_id) WHERE (run_id IS NOT NULL)
INDEX CREATE INDEX approval_queue_slack_pending_idx ON public.approval_queue USING btree (tenant_id) WHERE ((status = 'pending'::text) AND (slack_ts IS NULL))
INDEX CREATE INDEX approval_queue_tenant_requested_idx ON public.approval_queue USING btree (tenant_id, requested_at)
INDEX CREATE INDEX approval_queue_tenant_status_idx ON public.approval_queue USING btree (tenant_id, status, requested_at, id)
INDEX CREATE INDEX approval_queue_workflow_idx ON public.approval_queue USING btree (workflow_id) WHERE (workflow_id IS NOT NULL)
INDEX CREATE UNIQUE INDEX approval_routes_pkey ON public.approval_routes USING btree (tenant_id, action_type)
INDEX CREATE UNIQUE INDEX approval_votes_approval_id_actor_key ON public.approval_votes USING btree (approval_id, actor)
INDEX CREATE UNIQUE INDEX approval_votes_person_idx ON public.approval_votes USING btree (approval_id, person) WHERE (person IS NOT NULL)
INDEX CREATE UNIQUE INDEX approval_votes_pkey ON public.approval_votes USING btree (id)
INDEX CREATE UNIQUE INDEX approval_webhooks_pkey ON public.approval_webhooks USING btree (id)
INDEX CREATE UNIQUE INDEX approval_webhooks_tenant_id_name_key ON public.approval_webhooks USING btree (tenant_id, name)
INDEX CREATE UNIQUE INDEX audit_log_pkey ON public.audit_log USING btree (id)
INDEX CREATE INDEX audit_log_tenant_created_idx ON public.audit_log USING btree (tenant_id, created_at)
INDEX CREATE INDEX audit_log_tenant_idx ON public.audit_log USING btree (tenant_id, id)
INDEX CREATE INDEX decision_links_approval_idx ON public.decision_links USING btree (approval_id)
INDEX CREATE UNIQUE INDEX decision_links_pkey ON public.decision_links USING btree (id)
INDEX CREATE INDEX decision_links_tenant_idx ON public.decision_links USING btree (tenant_id)
INDEX CREATE UNIQUE INDEX decision_links_token_hash_key ON public.decision_links USING btree (token_hash)
INDEX CREATE UNIQUE INDEX engagement_events_dedup_idx ON public.engagement_events USING btree (tenant_id, event_id) WHERE (event_id IS NOT NULL)
INDEX CREATE UNIQUE INDEX engagement_events_pkey ON public.engagement_events USING btree (id)
INDEX CREATE INDEX engagement_events_tenant_time_idx ON public.engagement_events USING btree (tenant_id, created_at)
INDEX CREATE INDEX engagement_events_tenant_user_idx ON public.engagement_events USING btree (tenant_id, user_id, created_at)
INDEX CREATE UNIQUE INDEX github_trust_pkey ON public.github_trust USING btree (id)
INDEX CREATE INDEX github_trust_repository_idx ON public.github_trust USING btree (repository)
INDEX CREATE UNIQUE INDEX github_trust_rule_idx ON public.github_trust USING btree (tenant_id, repository, ref, COALESCE(environment, ''::text))
INDEX CREATE UNIQUE INDEX levqor_migrations_pkey ON public.levqor_migrations USING btree (id)
INDEX CREATE UNIQUE INDEX maintenance_log_pkey ON public.maintenance_log USING btree (task, day)
INDEX CREATE UNIQUE INDEX marketing_campaigns_pkey ON public.marketing_campaigns USING btree (tenant_id, campaign, week)
INDEX CREATE INDEX marketing_campaigns_run_idx ON public.marketing_campaigns USING btree (run_id) WHERE (run_id IS NOT NULL)
INDEX CREATE INDEX marketing_campaigns_workflow_idx ON public.marketing_campaigns USING btree (workflow_id) WHERE (workflow_id IS NOT NULL)
INDEX CREATE UNIQUE INDEX notify_cursors_pkey ON public.notify_cursors USING btree (name)
INDEX CREATE UNIQUE INDEX people_email_idx ON public.people USING btree (tenant_id, email) WHERE (email IS NOT NULL)
INDEX CREATE UNIQUE INDEX people_pkey ON public.people USING btree (id)
INDEX CREATE UNIQUE INDEX people_tenant_id_handle_key ON public.people USING btree (tenant_id, handle)
INDEX CREATE UNIQUE INDEX people_settings_pkey ON public.people_settings USING btree (tenant_id)
INDEX CREATE INDEX person_identities_person_idx ON public.person_identities USING btree (person_id)
INDEX CREATE UNIQUE INDEX person_identities_pkey ON public.person_identities USING btree (id)
INDEX CREATE UNIQUE INDEX person_identities_tenant_id_identity_key ON public.person_identities USING btree (tenant_id, identity)
INDEX CREATE UNIQUE INDEX request_buckets_pkey ON public.request_buckets USING btree (minute, instance)
INDEX CREATE UNIQUE INDEX scaling_state_pkey ON public.scaling_state USING btree (id)
INDEX CREATE INDEX scheduler_claims_lease_idx ON public.scheduler_claims USING btree (lease_expires_at)
INDEX CREATE UNIQUE INDEX scheduler_claims_pkey ON public.scheduler_claims USING btree (id)
INDEX CREATE UNIQUE INDEX scheduler_instances_pkey ON public.scheduler_instances USING btree (id)
INDEX CREATE INDEX secrets_key_idx ON public.secrets USING btree (key_id)
INDEX CREATE UNIQUE INDEX secrets_pkey ON public.secrets USING btree (tenant_id, name)
INDEX CREATE UNIQUE INDEX slack_deliveries_pkey ON public.slack_deliveries USING btree (key)
INDEX CREATE INDEX slack_deliveries_received_idx ON public.slack_deliveries USING btree (received_at)
INDEX CREATE UNIQUE INDEX slack_feed_cursor_pkey ON public.slack_feed_cursor USING btree (name)
INDEX CREATE UNIQUE INDEX slack_posts_pkey ON public.slack_posts USING btree (tenant_id, kind, period)
INDEX CREATE UNIQUE INDEX slack_settings_pkey ON public.slack_settings USING btree (tenant_id)
INDEX CREATE UNIQUE INDEX slack_settings_team_id_key ON public.slack_settings USING btree (team_id)
INDEX CREATE UNIQUE INDEX tenants_name_key ON public.tenants USING btree (name)
INDEX CREATE UNIQUE INDEX tenants_pkey ON public.tenants USING btree (id)
INDEX CREATE INDEX web_sessions_person_idx ON public.web_sessions USING btree (person_id)
INDEX CREATE UNIQUE INDEX web_sessions_pkey ON public.web_sessions USING btree (id)
INDEX CREATE UNIQUE INDEX web_sessions_secret_hash_key ON public.web_sessions USING btree (secret_hash)
INDEX CREATE INDEX web_sessions_tenant_idx ON public.web_sessions USING btree (tenant_id)
INDEX CREATE INDEX web_sessions_token_idx ON public.web_sessions USING btree (token_id)
INDEX CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text)
INDEX CREATE UNIQUE INDEX webhook_deliveries_pkey ON public.webhook_deliveries USING btree (id)
INDEX CREATE INDEX webhook_deliveries_tenant_idx ON public.webhook_deliveries USING btree (tenant_id, status)
INDEX CREATE UNIQUE INDEX webhook_deliveries_webhook_id_event_id_key ON public.webhook_deliveries USING btree (webhook_id, event_id)
INDEX CREATE INDEX workflow_events_created_idx ON public.workflow_events USING btree (created_at)
INDEX CREATE UNIQUE INDEX workflow_events_pkey ON public.workflow_events USING btree (id)
INDEX CREATE INDEX workflow_events_run_idx ON public.workflow_events USING btree (run_id, id)
INDEX CREATE INDEX workflow_runs_active_by_workflow_idx ON public.workflow_runs USING btree (workflow_id) WHERE (status = ANY (ARRAY['queued'::text, 'running'::text, 'waiting_approval'::text]))
INDEX CREATE INDEX workflow_runs_active_idx ON public.workflow_runs USING btree (status, lease_expires_at) WHERE (status = ANY (ARRAY['queued'::text, 'running'::text, 'waiting_approval'::text]))
INDEX CREATE INDEX workflow_runs_finished_idx ON public.workflow_runs USING btree (finished_at) WHERE (finished_at IS NOT NULL)
INDEX CREATE UNIQUE INDEX workflow_runs_pkey ON public.workflow_runs USING btree (id)
INDEX CREATE INDEX workflow_runs_started_idx ON public.workflow_runs USING btree (started_at)
INDEX CREATE INDEX workflow_runs_tenant_started_idx ON public.workflow_runs USING btree (tenant_id, started_at)
INDEX CREATE UNIQUE INDEX workflow_runs_workflow_id_scheduled_for_key ON public.workflow_runs USING btree (workflow_id, scheduled_for)
INDEX CREATE INDEX workflow_runs_workflow_idx ON public.workflow_runs USING btree (workflow_id, started_at DESC)
INDEX CREATE INDEX workflows_due_idx ON public.workflows USING btree (next_run_at) WHERE (is_active AND ((schedule_config ->> 'enabled'::text) = 'true'::text))
INDEX CREATE UNIQUE INDEX workflows_pkey ON public.workflows USING btree (id)
INDEX CREATE UNIQUE INDEX workflows_tenant_id_name_key ON public.workflows USING btree (tenant_id, name)
TRIGGER CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON public.audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
POLICY alert_evaluations.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY alert_evaluations.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY alert_rules.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY alert_rules.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY alerts.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY alerts.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY api_tokens.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY api_tokens.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY approval_events.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY approval_events.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY approval_policies.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY approval_policies.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY approval_queue.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY approval_queue.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY approval_routes.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY approval_routes.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY approval_votes.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY approval_votes.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY approval_webhooks.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY approval_webhooks.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY audit_log.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY audit_log.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY decision_links.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY decision_links.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY engagement_events.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY engagement_events.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY github_trust.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY github_trust.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY marketing_campaigns.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY marketing_campaigns.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY people.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY people.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY people_settings.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY people_settings.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY person_identities.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY person_identities.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY scheduler_claims.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY scheduler_claims.tenant_isolation PERMISSIVE levqor_app ALL USING ((NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid = ANY (tenant_ids))
POLICY secrets.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY secrets.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY webhook_deliveries.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY webhook_deliveries.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY workflow_events.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY workflow_events.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY workflow_runs.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY workflow_runs.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
POLICY workflows.service_access PERMISSIVE public ALL USING (NOT pg_has_role(CURRENT_USER, 'levqor_app'::name, 'USAGE'::text))
POLICY workflows.tenant_isolation PERMISSIVE levqor_app ALL USING (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid) CHECK (tenant_id = (NULLIF(current_setting('levqor.tenant_id'::text, true), ''::text))::uuid)
FORCED RLS alert_evaluations
FORCED RLS alert_rules
FORCED RLS alerts
FORCED RLS api_tokens
FORCED RLS approval_events
FORCED RLS approval_policies
FORCED RLS approval_queue
FORCED RLS approval_routes
FORCED RLS approval_votes
FORCED RLS approval_webhooks
FORCED RLS audit_log
FORCED RLS decision_links
FORCED RLS engagement_events
FORCED RLS github_trust
FORCED RLS marketing_campaigns
FORCED RLS people
FORCED RLS people_settings
FORCED RLS person_identities
FORCED RLS scheduler_claims
FORCED RLS secrets
FORCED RLS webhook_deliveries
FORCED RLS workflow_events
FORCED RLS workflow_runs
FORCED RLS workflows
FUNCTION audit_log_append_only
