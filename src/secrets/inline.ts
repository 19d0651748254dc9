// Literal credentials written into a step (pure): what `workflow apply`, PUT /api/workflows/:name
// and `levqor doctor secrets` refuse or report. Only where a credential is named, or unmistakable:
// a credential header, or a password in a URL's userinfo.

/** Headers that carry a credential: Authorization, Proxy-Authorization, Cookie, *-Api-Key, *-Token. */
const CREDENTIAL_HEADER = /^(authorization|proxy-authorization|cookie|(.+-)?api-key|.+-token)$/i;
const TAG = /\{\{[\s\S]*?\}\}/g;
const SCHEME = /^\s*(Bearer|Basic|Token|Bot|Digest)\b/i;

/** One literal credential: where it sits ("steps[0].headers.Authorization") and a hint of the name to store it under. */
export interface InlineCredential {
  field: string;
  suggested: string;
}

/** True when text holds more than references and an auth scheme word. */
function isLiteral(text: string): boolean {
  return text.replace(TAG, '').replace(SCHEME, '').trim() !== '';
}

function suggestName(workflow: string, what: string): string {
  const name = `${workflow}_${what}`
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^[^A-Z]+|_+$/g, '');
  return (name || 'TOKEN').slice(0, 64);
}

/** The password of a URL's userinfo, when it is literal (a template URL is checked as written). */
function userinfoPassword(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*)@/i.exec(url);
  const info = m?.[1];
  if (info === undefined) return undefined;
  const colon = info.indexOf(':');
  const password = colon >= 0 ? info.slice(colon + 1) : info;
  return isLiteral(password) ? password : undefined;
}

/** Every literal credential in a workflow's steps (or approval payloads, which have the step's shape). */
export function inlineCredentials(workflow: string, steps: readonly unknown[]): InlineCredential[] {
  const out: InlineCredential[] = [];
  steps.forEach((raw, i) => {
    if (raw === null || typeof raw !== 'object') return;
    const step = raw as { url?: unknown; headers?: unknown };
    if (step.headers !== null && typeof step.headers === 'object') {
      for (const [name, value] of Object.entries(step.headers as Record<string, unknown>)) {
        if (CREDENTIAL_HEADER.test(name) && typeof value === 'string' && isLiteral(value))
          out.push({
            field: `steps[${i}].headers.${name}`,
            suggested: suggestName(workflow, name.toLowerCase() === 'cookie' ? 'cookie' : 'token'),
          });
      }
    }
    if (typeof step.url === 'string' && userinfoPassword(step.url) !== undefined)
      out.push({ field: `steps[${i}].url (userinfo)`, suggested: suggestName(workflow, 'password') });
  });
  return out;
}

/** The message that refuses them, naming each field and the command that stores the value instead. */
export function inlineCredentialProblems(workflow: string, found: readonly InlineCredential[], override: string): string[] {
  return found.map(
    (c) =>
      `${workflow}: ${c.field} holds a literal credential: store it with \`levqor secret set ${c.suggested}\` (value on stdin) ` +
      `and write {{secrets.${c.suggested}}} there instead (${override} to keep it inline)`,
  );
}
