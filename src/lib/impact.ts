// Impact classes (DESIGN.md), shared by the engine (a step's class) and the approval ledger
// (an action's class): plain values, no I/O, so both can use them without importing each other.

/** A safe, B soft (runs at once, audited), C critical (waits for a human). */
export const IMPACT_CLASSES = ['A', 'B', 'C'] as const;
export type ImpactClass = (typeof IMPACT_CLASSES)[number];

/** The impact class of each workflow step type; workflows/impact.ts checks it names every step type. */
export const STEP_TYPE_CLASS = {
  noop: 'A',
  log: 'A',
  transform: 'A',
  delay: 'A',
  set_workflow_active: 'B',
  http: 'C',
  email: 'C',
  slack_message: 'C',
  github: 'C',
} as const satisfies Readonly<Record<string, ImpactClass>>;

const RANK: Readonly<Record<ImpactClass, number>> = { A: 0, B: 1, C: 2 };

/** The higher of impact classes; nothing lowers a class. */
export function maxClass(...classes: (ImpactClass | null | undefined)[]): ImpactClass {
  let best: ImpactClass = 'A';
  for (const c of classes) if (c && RANK[c] > RANK[best]) best = c;
  return best;
}

/** The class of a step type by name, or undefined for a type that is not a workflow step (a deploy). */
export function stepTypeClass(type: string): ImpactClass | undefined {
  return Object.hasOwn(STEP_TYPE_CLASS, type) ? STEP_TYPE_CLASS[type as keyof typeof STEP_TYPE_CLASS] : undefined;
}
