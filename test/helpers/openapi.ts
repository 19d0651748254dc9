import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

/** The parts of an OpenAPI operation the tests read. */
export interface OpenApiOperation {
  operationId: string;
  security: { bearer?: string[] }[];
  parameters?: { name: string; in: string }[];
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: unknown }>; headers?: Record<string, { schema: { type?: string } }> }
  >;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown> };
}

/** A real reply: status, headers and the raw body. */
export interface Reply {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
}

/** Replaces each {"$ref": "#/components/schemas/X"} with the schema it names. */
function deref(schema: unknown, components: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => deref(s, components));
  if (!schema || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    expect(components[name], `${ref} is defined`).toBeDefined();
    return deref(components[name], components);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, deref(v, components)]));
}

/**
 * Checks real replies against the document (JSON Schema 2020-12, as OpenAPI 3.1 has it): the
 * status is listed for the operation, the media type and body are as described, each documented
 * header is there and fits its schema. Returns the operation's key ("GET /api/runs/{id}").
 */
export function createReplyChecker(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  const validators = new Map<string, ValidateFunction>();

  /** The operation a concrete request path belongs to: its template in the document. */
  function operationOf(method: string, path: string): { key: string; op: OpenApiOperation } {
    const bare = path.split('?')[0] ?? '';
    for (const [template, ops] of Object.entries(doc.paths)) {
      const re = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
      const op = ops[method.toLowerCase()];
      if (op && re.test(bare)) return { key: `${method.toUpperCase()} ${template}`, op };
    }
    throw new Error(`${method} ${bare} is in no path of the document`);
  }

  return function checkReply(method: string, path: string, res: Reply): string {
    const { key, op } = operationOf(method, path);
    const status = String(res.status);
    const range = `${status[0] ?? ''}XX`;
    const documented = op.responses[status] ? status : op.responses[range] ? range : undefined;
    expect(documented, `${key} answered ${status} (${res.text.slice(0, 300)}), which the document does not list`).toBeDefined();
    const response = op.responses[documented ?? ''];
    const [mediaType, media] = Object.entries(response?.content ?? {})[0] ?? [];
    expect(mediaType, `${key} ${status} has a documented body`).toBeDefined();
    expect(res.headers.get('content-type')?.split(';')[0]).toBe(mediaType);
    let validate = validators.get(`${key} ${status}`);
    if (!validate) {
      validate = ajv.compile(deref(media?.schema, doc.components.schemas) as object);
      validators.set(`${key} ${status}`, validate);
    }
    const body = mediaType === 'application/json' ? (JSON.parse(res.text) as unknown) : res.text;
    expect(validate(body) ? [] : validate.errors, `${key} ${status}: ${res.text.slice(0, 500)}`).toEqual([]);
    for (const [name, header] of Object.entries(response?.headers ?? {})) {
      const value = res.headers.get(name);
      expect(value, `${key} ${status}: header ${name}`).not.toBeNull();
      const numeric = header.schema.type === 'integer' || header.schema.type === 'number';
      expect(ajv.validate(header.schema, numeric ? Number(value) : value), `${key} ${status}: ${name}: ${value}`).toBe(true);
    }
    return key;
  };
}
