import { maxClass, STEP_TYPE_CLASS, type ImpactClass } from '../lib/impact.js';
import type { Step, StepType } from './schema.js';

/** Every step type has a class: adding a step type without one fails to compile here. */
const STEP_CLASS: Readonly<Record<StepType, ImpactClass>> = STEP_TYPE_CLASS;

/**
 * The class of a step's type as used: a Slack message to one of the tenant's internal
 * channels stays inside the team (B); to any other channel it leaves it (C).
 */
function baseClass(step: Step, internalChannels: readonly string[] = []): ImpactClass {
  if (step.type === 'slack_message' && internalChannels.includes(step.channel)) return 'B';
  return STEP_CLASS[step.type];
}

/** A step's class: the maximum of its type's class, its own override and the workflow's. */
export function stepImpactClass(step: Step, workflowClass?: ImpactClass | null, internalChannels?: readonly string[]): ImpactClass {
  return maxClass(baseClass(step, internalChannels), step.impact_class, workflowClass);
}

/** Why a class is what it is, for approval requests. */
export function describeClass(step: Step, workflowClass?: ImpactClass | null, internalChannels?: readonly string[]): string {
  const base = baseClass(step, internalChannels);
  const cls = stepImpactClass(step, workflowClass, internalChannels);
  if (step.type === 'slack_message' && cls === base) {
    return base === 'B'
      ? `Slack messages to the internal channel ${step.channel} are Class B`
      : `Slack messages to ${step.channel}, not one of the tenant's internal channels, are Class C: they leave the team`;
  }
  if (cls === base) return `${step.type} steps are Class ${cls}${cls === 'C' ? ': they act outside Levqor' : ''}`;
  return step.impact_class === cls ? `the step raises its class from ${base} to ${cls}` : `the workflow raises every step to Class ${cls}`;
}
