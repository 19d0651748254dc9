// How Levqor reads Slack's refusals: which no retry will change, which mean the message is
// gone, and how long to wait before trying again. No Slack SDK import: the SDK's errors carry
// Slack's code as `data.error`, and that is all we read.

/** Slack's error code from a Web API error (`data.error`), if the error came from Slack. */
export function slackErrorCode(err: unknown): string | undefined {
  const code = (err as { data?: { error?: unknown } } | null)?.data?.error;
  return typeof code === 'string' ? code : undefined;
}

/** Refusals no retry will change until someone fixes the channel, the token or the message. */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'no_permission',
  'msg_too_long',
  'no_text',
  'invalid_blocks',
  'restricted_action',
  'ekm_access_denied',
  'team_access_not_granted',
]);

/** True for a refusal that retrying will not change. */
export function isPermanentSlackError(err: unknown): boolean {
  return PERMANENT.has(slackErrorCode(err) ?? '');
}

/** Refusals of chat.update that mean the message (or its channel) is gone: there is nothing left to update. */
const GONE = new Set(['message_not_found', 'cant_update_message', 'channel_not_found', 'is_archived', 'not_in_channel']);

export function isGoneSlackError(err: unknown): boolean {
  return GONE.has(slackErrorCode(err) ?? '');
}

/** The longest wait between tries of one failing post. */
const MAX_RETRY_SECONDS = 1_800;

/**
 * Seconds to wait after the `attempts`-th failure in a row: 30 s doubling to 30 min (pure).
 * A permanent refusal waits the longest at once: someone has to act before a retry can work.
 */
export function slackRetryDelay(attempts: number, permanent: boolean): number {
  if (permanent) return MAX_RETRY_SECONDS;
  return Math.min(MAX_RETRY_SECONDS, 30 * 2 ** Math.max(0, attempts - 1));
}

/** A short description of a failure for the database and `levqor slack show`. */
export function slackFailure(err: unknown): string {
  const code = slackErrorCode(err);
  if (code) return code;
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}
