-- Slack app: which workspace maps to which tenant and where it posts; the approval message
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
-- ("pending:0", "approved:1" …): a bot process updates it only when the request's state
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
