import type { ImpactClass, Step, StepType } from './schema.js';

/** The impact class of each step type (DESIGN.md): A safe, B soft (audited), C critical (approval). */
export const STEP_TYPE_CLASS: Readonly<Record<StepType, ImpactClass>> = {
  noop: 'A',
  log: 'A',
  transform: 'A',
  delay: 'A',
  set_workflow_active: 'B',
  http: 'C',
  email: 'C',
};

const RANK: Readonly<Record<ImpactClass, number>> = { A: 0, B: 1, C: 2 };

/** The higher of impact classes; nothing lowers a class. */
export function maxClass(...classes: (ImpactClass | null | undefined)[]): ImpactClass {
  let best: ImpactClass = 'A';
  for (const c of classes) if (c && RANK[c] > RANK[best]) best = c;
  return best;
}

/** A step's class: the maximum of its type's class, its own override and the workflow's. */
export function stepImpactClass(step: Step, workflowClass?: ImpactClass | null): ImpactClass {
  return maxClass(STEP_TYPE_CLASS[step.type], step.impact_class, workflowClass);
}

/** Why a class is what it is, for approval requests. */
export function describeClass(step: Step, workflowClass?: ImpactClass | null): string {
  const base = STEP_TYPE_CLASS[step.type];
  const cls = stepImpactClass(step, workflowClass);
  if (cls === base) return `${step.type} steps are Class ${cls}${cls === 'C' ? ': they act outside Levqor' : ''}`;
  return step.impact_class === cls
    ? `the step raises its class from ${base} to ${cls}`
    : `the workflow raises every step to Class ${cls}`;
}
