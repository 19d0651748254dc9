import { z } from 'zod';
import type { Db } from '../db/types.js';
import { getPeopleSettings, personByEmail, personForIdentity } from './queries.js';
import { linkIdentity } from './service.js';

/** The one Web API call auto-linking makes (a WebClient fits). */
export interface SlackUsersPort {
  users: { info(args: { user: string }): Promise<unknown> };
}

// What users.info returns of a user that matters here. The email is in profile.email (with the
// users:read.email scope); is_email_confirmed says Slack verified it.
const userInfoSchema = z.object({
  ok: z.literal(true),
  user: z.object({
    id: z.string(),
    team_id: z.string().optional(),
    deleted: z.boolean().optional(),
    is_bot: z.boolean().optional(),
    is_email_confirmed: z.boolean().optional(),
    profile: z.object({ email: z.string().optional() }).optional(),
  }),
});

/** Who links automatically, as audit_log records it. */
export const AUTOLINK_ACTOR = 'levqor:slack-autolink';

/**
 * Links an unlinked Slack user who acts to the person with their verified email, when the
 * tenant turned auto-linking on (people_settings.slack_autolink). Nothing happens for a user
 * already linked, a bot, a deleted user, one of another workspace, an unconfirmed email or one
 * no person has. Returns the handle linked to, if any; the link is recorded in audit_log.
 */
export async function autolinkSlackUser(
  db: Db,
  slack: SlackUsersPort,
  o: { tenantId: string; userId: string; teamId: string | undefined },
): Promise<string | undefined> {
  const identity = `slack:${o.userId}`;
  if (!(await getPeopleSettings(db, o.tenantId)).slack_autolink) return undefined;
  if (await personForIdentity(db, o.tenantId, identity)) return undefined;
  const parsed = userInfoSchema.safeParse(await slack.users.info({ user: o.userId }));
  if (!parsed.success) return undefined;
  const user = parsed.data.user;
  const email = user.profile?.email?.toLowerCase();
  if (user.deleted || user.is_bot || user.is_email_confirmed !== true || !email) return undefined;
  if (o.teamId && user.team_id && user.team_id !== o.teamId) return undefined;
  const person = await personByEmail(db, o.tenantId, email);
  if (!person) return undefined;
  await db.transaction((tx) =>
    linkIdentity(
      tx,
      o.tenantId,
      person.handle,
      { identity, slackTeamId: user.team_id ?? o.teamId ?? null },
      AUTOLINK_ACTOR,
      'person.autolinked',
      {
        email,
        via: 'users.info',
      },
    ),
  );
  return person.handle;
}
