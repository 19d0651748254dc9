import type { Config } from '../src/config.js';
import type { Queryable } from '../src/db/types.js';
import { AppError, errorMessage } from '../src/lib/errors.js';
import type { RunNowDeps } from '../src/scheduler/manual.js';
import { tenantForTeam, type SlackSettings } from '../src/slack/queries.js';
import type { SlackSyncDeps } from '../src/slack/sync.js';
import type { Acting } from './payloads.js';

/** What the bot's handlers need; built once by the entry point (tests build their own). */
export interface BotDeps extends SlackSyncDeps {
  config: Config;
  /** How runs execute in this process. */
  runDeps: RunNowDeps;
  /** Execute approved and /levqor-started runs here (else queue them for a scheduler). */
  executeRuns: boolean;
  processStartedAt: number;
  /** Runs started after a click and still executing: shutdown waits for them. */
  inFlight?: Set<Promise<unknown>>;
}

/** An error as the one line a Slack user sees (the one place codes map to Slack wording). */
export function explain(err: unknown): string {
  if (!(err instanceof AppError))
    return `Something went wrong on Levqor's side (${errorMessage(err)}); nothing was decided. Try again, or use the CLI.`;
  switch (err.code) {
    case 'conflict':
      return `Nothing done: ${err.message}.`;
    case 'forbidden':
      return `You can't decide this one: ${err.message}.`;
    case 'not_found':
      return `Not found: ${err.message} (it may belong to another workspace, or have been cleaned up).`;
    case 'bad_input':
      return err.message;
    default:
      return `Levqor could not do that: ${err.message}`;
  }
}

/** Tells one user something only they see, in the channel they clicked in. */
export async function tellUser(deps: BotDeps, channel: string | undefined, user: string, text: string): Promise<void> {
  if (!channel) {
    deps.log.warn({ user, text }, 'no channel to answer in; the explanation was not shown');
    return;
  }
  await deps.slack.chat.postEphemeral({ channel, user, text });
}

/**
 * The tenant an interaction acts on, or what to tell the user instead: the workspace must be
 * connected (by its id, or its Enterprise Grid org's for an org-wide install), and the acting
 * user must belong to it — their own team, or the org the connected workspace is part of. A
 * user of another workspace in a shared channel decides nothing.
 */
export async function actingTenant(db: Queryable, w: Acting): Promise<{ settings: SlackSettings } | { refusal: string }> {
  const settings =
    (w.team ? await tenantForTeam(db, w.team) : undefined) ?? (w.enterprise ? await tenantForTeam(db, w.enterprise) : undefined);
  if (!settings) return { refusal: notConnected(w.team ?? w.enterprise) };
  const connected = settings.team_id;
  const home = w.userTeam;
  if (!home)
    return {
      refusal: `Slack did not say which workspace you belong to, so nothing was done (Levqor acts only for members of ${connected}).`,
    };
  const member =
    home === connected || (w.enterprise !== undefined && home === w.enterprise && (w.team === connected || w.enterprise === connected));
  if (member) return { settings };
  return {
    refusal: `You are a member of Slack workspace ${home}, not ${connected}, the workspace connected to this Levqor tenant, so nothing was done. Ask someone in ${connected} to decide, or to add you to it.`,
  };
}

/** The workspace is not connected: say how to connect it. */
export function notConnected(team: string | undefined): string {
  return `This Slack workspace (${team ?? 'unknown'}) is not connected to a Levqor tenant. An operator connects it with: levqor slack configure --tenant NAME --team ${team ?? 'T…'} --approvals-channel C…`;
}
