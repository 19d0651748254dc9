import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, errorMessage } from '../lib/errors.js';
import { ensureCommit, git, showFile } from './git.js';
import {
  computeManifest,
  diffManifest,
  isClean,
  MANIFEST_PATH,
  parseManifest,
  readManifest,
  scanCritical,
  type Manifest,
  type ManifestDiff,
} from './manifest.js';

/** A pull request under the gate: the manifest is read from its base, the files from the working tree. */
export interface GatePullRequest {
  repository: string;
  number: number;
  baseSha: string;
  headSha: string;
}

/** The critical changes a pull request makes, as submitted for approval. */
export interface CriticalChanges extends ManifestDiff {
  renamed: { from: string; to: string }[];
  manifestChanged: boolean;
}

export type ApprovalState = 'approved' | 'pending' | 'rejected' | 'expired' | 'missing';

export interface ApprovalOutcome {
  state: ApprovalState;
  /** Who approved (or rejected). */
  by?: string;
  /** What to tell the author: where to approve, who rejected and why. */
  detail: string;
}

/** Decides whether a pull request's critical changes are approved (Levqor Class C or PR reviews). */
export type GateApprover = (pr: GatePullRequest, changes: CriticalChanges) => Promise<ApprovalOutcome>;

export interface GateResult {
  passed: boolean;
  mode: 'local' | 'pull_request';
  detail: string;
  changes: CriticalChanges;
  /** `git diff --stat` of the critical files against the base (pull requests). */
  diffStat?: string;
  approval?: ApprovalOutcome;
  lines: string[];
  /** Critical globs that match no file (a typo protects nothing): warnings, failures with `strict`. */
  warnings: string[];
}

export interface GateOptions {
  /** Fail when a critical glob matches no file (instead of a warning). */
  strict?: boolean;
}

/** Pairs removed and added files with the same content and mode as renames. */
function findRenames(diff: ManifestDiff, before: Manifest, after: Manifest): CriticalChanges {
  const renamed: { from: string; to: string }[] = [];
  const added = [...diff.added];
  const removed: string[] = [];
  const mode = (m: Manifest, path: string) => (m.version === 1 ? '' : (m.modes[path] ?? '100644'));
  for (const from of diff.removed) {
    const i = added.findIndex(
      (to) => after.files[to] === before.files[from] && (before.version === 1 || mode(after, to) === mode(before, from)),
    );
    if (i >= 0) renamed.push({ from, to: added.splice(i, 1)[0] as string });
    else removed.push(from);
  }
  return { added, removed, changed: diff.changed, modes: diff.modes, renamed, manifestChanged: false };
}

const MODE_NAMES: Record<string, string> = { '100644': 'a file', '100755': 'an executable', '120000': 'a symlink' };

/** Lines that describe the changes, one per file; a mode change says what the file became. */
export function describeChanges(c: CriticalChanges): string[] {
  const modeOf = new Map(c.modes.map((m) => [m.path, m]));
  const changed = (f: string) => {
    const m = modeOf.get(f);
    return m ? `changed: ${f} (mode ${m.from} → ${m.to}: now ${MODE_NAMES[m.to] ?? m.to})` : `changed: ${f}`;
  };
  return [
    ...c.changed.map(changed),
    ...c.added.map((f) => `added: ${f}`),
    ...c.removed.map((f) => `deleted: ${f}`),
    ...c.renamed.map((r) => `renamed: ${r.from} → ${r.to}`),
    ...(c.manifestChanged ? [`changed: ${MANIFEST_PATH} (the manifest itself)`] : []),
  ];
}

function countChanges(c: CriticalChanges): number {
  return c.added.length + c.removed.length + c.changed.length + c.renamed.length + (c.manifestChanged ? 1 : 0);
}

/** The warning for a critical glob that matches no file. */
export function emptyGlobWarning(glob: string): string {
  return `critical glob "${glob}" matches no file: it protects nothing (a typo?); fix or drop it with \`levqor gate update --glob …\``;
}

/** Warns about globs that match no file; with `strict` they fail the gate, named in its detail. */
function checkGlobs(result: Omit<GateResult, 'warnings'>, emptyGlobs: readonly string[], opts: GateOptions): GateResult {
  const warnings = emptyGlobs.map(emptyGlobWarning);
  if (!opts.strict || warnings.length === 0) return { ...result, warnings };
  const globs = emptyGlobs.map((g) => `"${g}"`).join(', ');
  return { ...result, warnings, passed: false, detail: `strict: critical glob(s) ${globs} match no file. ${result.detail}` };
}

/** `levqor gate verify` outside a pull request: the working tree against its own manifest. */
export function verifyLocal(root: string, opts: GateOptions = {}): GateResult {
  const manifest = readManifest(root);
  const { manifest: now, emptyGlobs } = scanCritical(root, manifest.globs);
  const changes = findRenames(diffManifest(manifest, now), manifest, now);
  const lines = describeChanges(changes);
  const n = countChanges(changes);
  const result = {
    passed: n === 0,
    mode: 'local' as const,
    changes,
    lines,
    detail:
      n === 0
        ? `${Object.keys(manifest.files).length} critical files match ${MANIFEST_PATH}`
        : `${n} critical file(s) differ from ${MANIFEST_PATH}; if intended, run \`levqor gate update\` and have the change approved`,
  };
  return checkGlobs(result, emptyGlobs, opts);
}

/**
 * The gate on a pull request: the manifest comes from the BASE commit (a PR that edits a
 * critical file and the manifest together changes nothing here), the files from the working
 * tree. Critical changes pass only when `approve` says they are approved.
 */
export async function verifyPullRequest(
  root: string,
  pr: GatePullRequest,
  approve: GateApprover | undefined,
  opts: GateOptions = {},
): Promise<GateResult> {
  await ensureCommit(root, pr.baseSha);
  const baseText = await showFile(root, pr.baseSha, MANIFEST_PATH);
  const headText = existsSync(join(root, MANIFEST_PATH)) ? readFileSync(join(root, MANIFEST_PATH), 'utf8') : undefined;
  if (baseText === undefined) {
    if (headText === undefined)
      throw new AppError(
        'not_found',
        `${MANIFEST_PATH} exists neither on the base branch nor in this pull request: create it with \`levqor gate update --glob …\``,
      );
    const own = verifyLocal(root, opts);
    return {
      ...own,
      mode: 'pull_request',
      detail: `the base branch has no manifest; this pull request adds ${MANIFEST_PATH}. ${own.detail}`,
    };
  }
  const base = parseManifest(baseText, `${MANIFEST_PATH} on the base branch (${pr.baseSha.slice(0, 7)})`);
  const { manifest: now, emptyGlobs } = scanCritical(root, base.globs);
  const changes = findRenames(diffManifest(base, now), base, now);
  changes.manifestChanged = headText !== baseText;
  const lines = describeChanges(changes);
  const n = countChanges(changes);
  if (n === 0)
    return checkGlobs(
      {
        passed: true,
        mode: 'pull_request',
        changes,
        lines,
        detail: `no critical file changed (${Object.keys(base.files).length} checked against the base branch's manifest)`,
      },
      emptyGlobs,
      opts,
    );

  const diffStat = await criticalDiffStat(root, pr.baseSha, base, now);
  const stale = headText === undefined ? undefined : staleHeadManifest(root, headText);
  const approval = approve
    ? await approve(pr, changes)
    : {
        state: 'missing' as const,
        detail: 'no approver configured: give `database-url` (Levqor approval) or `allowed-approvers` (PR reviews)',
      };
  const approved = approval.state === 'approved';
  const passed = approved && !stale;
  const detail = !approved
    ? `${n} critical change(s) need approval: ${approval.detail}`
    : stale
      ? `approved by ${approval.by ?? '?'}, but ${stale}`
      : `${n} critical change(s) approved by ${approval.by ?? '?'}`;
  return checkGlobs({ passed, mode: 'pull_request', changes, lines, diffStat, approval, detail }, emptyGlobs, opts);
}

/** Why the PR's own manifest does not describe the PR's files (the merged branch would then fail), or undefined. */
function staleHeadManifest(root: string, headText: string): string | undefined {
  let head: Manifest;
  try {
    head = parseManifest(headText, MANIFEST_PATH);
  } catch (err) {
    return errorMessage(err);
  }
  return isClean(diffManifest(head, computeManifest(root, head.globs)))
    ? undefined
    : `${MANIFEST_PATH} in this pull request does not match its files: run \`levqor gate update\` and commit it`;
}

async function criticalDiffStat(root: string, baseSha: string, base: Manifest, now: Manifest): Promise<string> {
  const paths = [...new Set([...Object.keys(base.files), ...Object.keys(now.files), MANIFEST_PATH])];
  try {
    return (await git(root, ['diff', '--stat=120', '-M', baseSha, '--', ...paths])).trimEnd();
  } catch (err) {
    return `(diff stat unavailable: ${errorMessage(err)})`;
  }
}
