import { describe, expect, it } from 'vitest';
import { blockActionSchema, slashCommandSchema, viewSubmissionSchema } from '../bot/payloads.js';
import { applyVariant } from './helpers/fixtures.js';
import { blockAction, hostileSlackVariants, rejectSubmission, slashCommand } from './helpers/slack.js';

// The Slack fixtures (test/fixtures/slack/) against the bot's zod schemas: what Slack sends
// parses, and every malformed or hostile variant is refused.

const APPROVAL = '6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f';
const hostile = hostileSlackVariants();
const click = blockAction({ user: 'UALICE', team: 'TACME', actionId: 'levqor_approve', approvalId: APPROVAL });
const dialog = rejectSubmission({ user: 'UBOB', team: 'TACME', approvalId: APPROVAL, reason: 'wrong customer' });

describe('Slack payload fixtures', () => {
  it('a button click, the reject dialog and /levqor parse as Slack sends them', () => {
    expect(blockActionSchema.parse(click)).toMatchObject({ user: { id: 'UALICE' }, actions: [{ value: APPROVAL }] });
    expect(viewSubmissionSchema.parse(dialog).view.private_metadata).toEqual({ approval_id: APPROVAL });
    const command = slashCommand({ user: 'UOPS', team: 'TACME', text: 'health', responseUrl: 'https://hooks.slack.invalid/r' });
    expect(slashCommandSchema.parse(command)).toMatchObject({ command: '/levqor', text: 'health', user_id: 'UOPS' });
  });

  it.each(hostile.block_actions)('refuses a click with $name', (variant) => {
    expect(blockActionSchema.safeParse(applyVariant(click, variant, { approval: APPROVAL })).success).toBe(false);
  });

  it.each(hostile.view_submission)('refuses a reject dialog with $name', (variant) => {
    expect(viewSubmissionSchema.safeParse(applyVariant(dialog, variant, { approval: APPROVAL })).success).toBe(false);
  });
});
