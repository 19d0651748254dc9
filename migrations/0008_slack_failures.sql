-- Failed Slack posts back off instead of being tried again on every sweep. A refusal that no
-- retry changes (channel_not_found, not_in_channel, invalid_auth …) is recorded with Slack's
-- code, so `levqor slack show` can say what to fix.

-- Scheduled posts: 'retry' waits until retry_at; 'failed' (a permanent refusal) is tried again
-- only when the tenant's channel for it changes.
ALTER TABLE slack_posts DROP CONSTRAINT slack_posts_status_check;
ALTER TABLE slack_posts ADD CONSTRAINT slack_posts_status_check CHECK (status IN ('posting', 'posted', 'retry', 'failed'));
ALTER TABLE slack_posts
  ADD COLUMN attempts  integer NOT NULL DEFAULT 0,      -- failures so far
  ADD COLUMN retry_at  double precision,                -- status 'retry': not before
  ADD COLUMN error     text;                            -- the last failure (Slack's code when Slack refused)

-- Approval messages: consecutive failed Slack calls for the request, when to try again, why.
-- Cleared by the next call that works, and by `levqor slack configure` for the tenant.
ALTER TABLE approval_queue
  ADD COLUMN slack_attempts  integer NOT NULL DEFAULT 0,
  ADD COLUMN slack_retry_at  double precision,
  ADD COLUMN slack_error     text;
