-- Scheduled Slack posts: when each tenant's weekly report and daily health summary go out,
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
