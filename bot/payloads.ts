import { z } from 'zod';

// Every payload Slack sends is parsed here before anything acts on it. Identity comes from
// user.id and team.id of the signed payload, never from a button's value.

const slackId = z.string().regex(/^[A-Z0-9]{2,40}$/, 'a Slack id');
/** An optional Slack id; Slack sends "" for "none" in some payloads (enterprise_id outside a Grid). */
const optionalSlackId = z.preprocess((v) => (v === '' || v === null ? undefined : v), slackId.optional());
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'an approval id');

export const blockActionSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: slackId, team_id: slackId.optional() }),
  team: z.object({ id: slackId, enterprise_id: optionalSlackId }).nullable().optional(),
  enterprise: z.object({ id: slackId }).nullable().optional(),
  channel: z.object({ id: slackId }).optional(),
  message: z.object({ ts: z.string() }).optional(),
  container: z.object({ message_ts: z.string().optional(), channel_id: slackId.optional() }).optional(),
  trigger_id: z.string().min(1).max(200),
  actions: z
    .array(z.object({ action_id: z.string(), value: uuid }))
    .min(1)
    .max(5),
});
export type BlockAction = z.infer<typeof blockActionSchema>;

export const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: slackId, team_id: slackId.optional() }),
  team: z.object({ id: slackId, enterprise_id: optionalSlackId }).nullable().optional(),
  enterprise: z.object({ id: slackId }).nullable().optional(),
  view: z.object({
    callback_id: z.string(),
    private_metadata: z
      .string()
      .max(3000)
      .transform((s, ctx) => {
        const parsed = z.object({ approval_id: uuid }).safeParse(
          (() => {
            try {
              return JSON.parse(s) as unknown;
            } catch {
              return undefined;
            }
          })(),
        );
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: 'private_metadata must name the approval' });
          return z.NEVER;
        }
        return parsed.data;
      }),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullable().optional() }).loose())),
    }),
  }),
});
export type ViewSubmission = z.infer<typeof viewSubmissionSchema>;

export const slashCommandSchema = z.object({
  command: z.string().startsWith('/'),
  text: z.string().max(4000).default(''),
  user_id: slackId,
  team_id: slackId,
  enterprise_id: optionalSlackId,
  channel_id: slackId,
  response_url: z.string().url().optional(),
  trigger_id: z.string().optional(),
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

/** Where an interaction came from and whom it came from, as the signed payload says. */
export interface Acting {
  /** The workspace it happened in. */
  team?: string;
  /** The acting user's own workspace (an E… organisation id for Enterprise Grid users). */
  userTeam?: string;
  /** The Enterprise Grid organisation of the workspace, if any. */
  enterprise?: string;
}

/** A click or dialog submission: the workspace, the clicker's own team (user.team_id) and the org. */
export function actingOf(p: BlockAction | ViewSubmission): Acting {
  return { team: p.team?.id ?? p.user.team_id, userTeam: p.user.team_id, enterprise: p.team?.enterprise_id ?? p.enterprise?.id };
}

/**
 * A slash command: Slack names the workspace the user typed it in, which is the user's own
 * (their org, inside an Enterprise Grid, as user.team_id would say in a click).
 */
export function actingOfCommand(cmd: SlashCommand): Acting {
  return { team: cmd.team_id, userTeam: cmd.enterprise_id ?? cmd.team_id, enterprise: cmd.enterprise_id };
}
