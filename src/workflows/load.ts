import { parseAllDocuments } from 'yaml';
import { AppError } from '../lib/errors.js';
import { readInputFile } from '../lib/read-input.js';
import { unsafeInputProblem } from '../lib/safe-input.js';
import { formatIssues, workflowSchema, type WorkflowSpec } from './schema.js';

/**
 * Parses workflow definitions from YAML or JSON text: one workflow, a list, several YAML
 * documents, or `{ workflows: [...] }`. Every invalid field of every workflow is reported
 * with its path; nothing is returned unless all are valid.
 */
function parseWorkflowText(text: string, source: string): WorkflowSpec[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const items: { value: unknown; path: string }[] = [];
  const problems: string[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, d) => {
    if (doc.errors.length > 0) {
      problems.push(...doc.errors.map((e) => `${source}: ${e.message.split('\n')[0] ?? 'parse error'}`));
      return;
    }
    let value: unknown;
    try {
      // toJS refuses alias bombs ("billion laughs") with an error of its own.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push(`${source}: ${(err as Error).message}`);
      return;
    }
    if (value === null || value === undefined) return;
    const prefix = list.length > 1 ? `${source}#${d + 1}` : source;
    if (Array.isArray(value)) value.forEach((v, i) => items.push({ value: v, path: `${prefix}:[${i}]` }));
    else if (typeof value === 'object' && 'workflows' in value && Array.isArray(value.workflows)) {
      (value.workflows as unknown[]).forEach((v, i) => items.push({ value: v, path: `${prefix}:workflows[${i}]` }));
    } else items.push({ value, path: `${prefix}:` });
  });
  if (problems.length === 0 && items.length === 0) problems.push(`${source}: no workflow found`);
  const specs: WorkflowSpec[] = [];
  const names = new Map<string, string>();
  for (const item of items) {
    const unsafe = unsafeInputProblem(item.value, item.path.replace(/:$/, ''));
    if (unsafe) {
      problems.push(unsafe);
      continue;
    }
    const parsed = workflowSchema.safeParse(item.value);
    if (!parsed.success) {
      problems.push(...formatIssues(parsed.error).map((i) => `${item.path}${item.path.endsWith(':') ? ' ' : '.'}${i}`.replace(':.', ': ')));
      continue;
    }
    const seen = names.get(parsed.data.name);
    if (seen) problems.push(`${item.path}.name: "${parsed.data.name}" is defined twice (also at ${seen})`);
    names.set(parsed.data.name, item.path);
    specs.push(parsed.data);
  }
  if (problems.length > 0) {
    throw new AppError('bad_input', `invalid workflow definition; nothing was written:\n  ${problems.join('\n  ')}`, problems);
  }
  return specs;
}

/** Reads and parses a workflow file ("-" reads standard input). */
export async function loadWorkflowFile(path: string, readStdin: () => Promise<string>): Promise<WorkflowSpec[]> {
  const text = await readInputFile(path, readStdin);
  return parseWorkflowText(text, path);
}
