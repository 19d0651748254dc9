import { SECRET_NAME } from './secret-refs.js';
import { findRefs, forEachString, quoteTag, TEMPLATE_ROOTS, TEMPLATE_SYNTAX, type FieldPath, type TemplateRef } from './templates.js';

/** What the check needs of a step: its name, and the vars a transform sets. */
interface StepShape {
  type: string;
  name?: string;
  set?: Record<string, unknown>;
}

/** A reference that cannot resolve in any run: `path` starts at the step's index. */
export interface TemplateIssue {
  path: FieldPath;
  message: string;
}

/** What the steps before one have made available to it. */
interface Known {
  /** steps.<key>: a step's name, or its index when it has none. */
  steps: Set<string>;
  vars: Set<string>;
  /** Every named step, for "runs after this one" hints. */
  names: Map<string, number>;
}

/** The steps whose fields may hold `{{secrets.NAME}}`: what they send is the credential's destination, not a record or a chat. */
const SECRET_STEP_TYPES: ReadonlySet<string> = new Set(['http', 'email', 'github']);

const list = (items: Iterable<string>) => [...items].map((s) => JSON.stringify(s)).join(', ');

/** Why ref can never have a value in step `index`, or undefined when it can. */
function refProblem(ref: TemplateRef, index: number, known: Known, stepType: string): string | undefined {
  const [root = '', key, deeper] = ref.path;
  if (!Object.hasOwn(TEMPLATE_ROOTS, root)) {
    return `unknown root "${root}": a reference starts with ${Object.keys(TEMPLATE_ROOTS).join(', ')}`;
  }
  if (root === 'secrets') {
    if (!SECRET_STEP_TYPES.has(stepType))
      return `a secret is used only by ${[...SECRET_STEP_TYPES].join(', ')} steps, where it leaves for its destination (a ${stepType} step would record or show it)`;
    if (key === undefined || deeper !== undefined) return 'a secret reference is {{secrets.NAME}}';
    if (!SECRET_NAME.test(key)) return `secret name "${key}" must match ${SECRET_NAME.source} (e.g. DEPLOY_TOKEN)`;
    if (ref.fallback) return 'a secret has no default: set it with levqor secret set ' + key;
    return undefined;
  }
  if (key === undefined) return undefined;
  const fields = TEMPLATE_ROOTS[root as keyof typeof TEMPLATE_ROOTS];
  if (fields) {
    if (!fields.includes(key)) return `${root} has no field "${key}" (it has ${fields.join(', ')})`;
    if (deeper !== undefined) return `${root}.${key} has no fields`;
    return undefined;
  }
  if (root === 'steps' && !known.steps.has(key)) {
    const at = known.names.get(key);
    if (at !== undefined) return `step ${at + 1} ("${key}") runs ${at === index ? 'as this one' : 'after this one'}: no output yet`;
    return `no step before this one is named "${key}"${known.steps.size ? ` (before it: ${list(known.steps)})` : ' (it is the first step)'}`;
  }
  if (root === 'vars' && !known.vars.has(key)) {
    return `no transform step before this one sets "${key}"${known.vars.size ? ` (set before it: ${list(known.vars)})` : ''}`;
  }
  return undefined;
}

/**
 * Every reference in a workflow's steps that no run can resolve: malformed tags, unknown roots
 * or fields, steps that are not before the one referring to them, vars no earlier transform
 * sets. A `| default:` does not excuse these: it is for values a run may lack, not for typos.
 */
export function templateIssues(steps: readonly StepShape[]): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const known: Known = { steps: new Set(), vars: new Set(), names: new Map() };
  steps.forEach((s, i) => {
    if (s.name !== undefined) known.names.set(s.name, i);
  });
  steps.forEach((step, i) => {
    forEachString(step, (text, at) => {
      for (const ref of findRefs(text)) {
        const problem = 'malformed' in ref ? `is not a reference (write ${TEMPLATE_SYNTAX})` : refProblem(ref, i, known, step.type);
        if (problem) issues.push({ path: [i, ...at], message: `${quoteTag(ref.tag)}: ${problem}` });
      }
    });
    known.steps.add(step.name ?? String(i));
    if (step.type === 'transform' && step.set) for (const k of Object.keys(step.set)) known.vars.add(k);
  });
  return issues;
}
