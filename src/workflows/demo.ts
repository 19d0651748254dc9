import type { Db } from '../db/types.js';
import { createTenant, listTenants, type TenantRow } from '../tenants/queries.js';
import { applyWorkflow } from './queries.js';
import { workflowSchema, type WorkflowInput } from './schema.js';

/** The demo workflows `npm start` creates on a fresh install: every impact class, two Class C requests to decide. */
export const DEMO_WORKFLOWS: WorkflowInput[] = [
  {
    name: 'heartbeat',
    description: 'Class A: logs a line every minute, so you can watch the scheduler work.',
    steps: [{ type: 'log', message: 'heartbeat from run {{run.id}} (slot {{run.scheduled_for | default: "none: started by hand"}})' }],
    schedule_config: { enabled: true, interval_minutes: 1 },
  },
  {
    name: 'daily-digest',
    description: 'Class A: builds a summary every weekday morning (cron, Europe/London).',
    steps: [
      {
        type: 'transform',
        name: 'digest',
        set: { title: 'Daily digest for {{workflow.name}}', generated_for: '{{run.scheduled_for | default: "now (started by hand)"}}' },
      },
      { type: 'log', message: '{{vars.title}} is ready' },
    ],
    schedule_config: { enabled: true, cron: '0 9 * * 1-5', timezone: 'Europe/London' },
  },
  {
    name: 'notify-partner',
    description: 'Class C: an outbound HTTP call, held for a human decision before it is sent.',
    steps: [
      { type: 'log', message: 'preparing the partner notification' },
      { type: 'http', method: 'POST', url: 'https://partner.example.com/hooks/levqor', body: { event: 'daily-sync', run: '{{run.id}}' } },
    ],
    schedule_config: { enabled: true, interval_minutes: 60 },
  },
  {
    name: 'customer-newsletter',
    description: 'Class C: an email to customers, held for a human decision before it is sent.',
    steps: [
      { type: 'email', to: ['customers@example.com'], subject: 'What is new this week', text: 'Hello from the Levqor demo ({{run.id}}).' },
    ],
    schedule_config: { enabled: true, interval_minutes: 10080 },
  },
];

/** Creates the demo tenant and workflows unless a tenant already exists. Returns the tenant when it seeded. */
export async function seedDemo(db: Db): Promise<TenantRow | undefined> {
  if ((await listTenants(db)).length > 0) return undefined;
  return db.transaction(async (tx) => {
    const tenant = await createTenant(tx, 'demo', 'Europe/London');
    for (const wf of DEMO_WORKFLOWS) await applyWorkflow(tx, tenant.id, workflowSchema.parse(wf), 'levqor:demo');
    return tenant;
  });
}
