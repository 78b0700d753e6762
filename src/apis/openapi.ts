/**
 * OpenAPI 3.1 documents for prompt APIs: one per API (every live major version as a path) and
 * one for the whole catalog a caller may see. Input and output schemas are the APIs' own
 * (JSON Schema 2020-12 is OpenAPI 3.1's schema language, so they go in unchanged).
 */
import type { ApiDefinition } from './definition.ts';

export interface CatalogVersion {
  readonly major: number;
  readonly label: string;
  readonly state: string;
  readonly definition: ApiDefinition;
  readonly sunsetAt: string | null;
  readonly successor: string | null;
}

export interface CatalogApi {
  readonly name: string;
  readonly description: string;
  readonly ownerTeamId: string;
  /** The newest visible version of each major. */
  readonly majors: readonly CatalogVersion[];
}

const ERROR_RESPONSE = {
  description: 'An error in the OpenAI error shape',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: { message: { type: 'string' }, type: { type: 'string' }, code: { type: 'string' } },
          },
        },
      },
    },
  },
};

function operation(api: CatalogApi, v: CatalogVersion): Record<string, unknown> {
  const d = v.definition;
  const output = d.output_schema ?? { type: 'string', description: 'the model’s answer as text' };
  return {
    operationId: `${api.name.replaceAll('-', '_')}_v${v.major}`,
    summary: api.description || api.name,
    description: `Version ${v.label} (${v.state}).${v.successor === null ? '' : ` Successor: ${v.successor}.`}${
      v.sunsetAt === null ? '' : ` Sunset: ${v.sunsetAt}.`
    }`,
    deprecated: v.state === 'deprecated',
    security: [{ bearer: [] }],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['variables'],
            additionalProperties: false,
            properties: {
              variables: d.input_schema,
              stream: {
                type: 'boolean',
                description:
                  d.output_schema === null
                    ? 'stream the answer as server-sent `text` events, then one `done` event'
                    : 'not available: this API validates its answer whole',
              },
            },
          },
          ...(d.examples.length === 0
            ? {}
            : {
                examples: Object.fromEntries(
                  d.examples.map((e, i) => [`example${i + 1}`, { value: { variables: e.variables } }]),
                ),
              }),
        },
      },
    },
    responses: {
      '200': {
        description: 'The answer',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['output', 'usage', 'model', 'api_version'],
              properties: {
                output,
                usage: {
                  type: 'object',
                  properties: {
                    prompt_tokens: { type: 'integer' },
                    completion_tokens: { type: 'integer' },
                    total_tokens: { type: 'integer' },
                  },
                },
                model: { type: 'string' },
                api_version: { type: 'string' },
              },
            },
          },
          ...(d.output_schema === null ? { 'text/event-stream': { schema: { type: 'string' } } } : {}),
        },
      },
      '400': ERROR_RESPONSE,
      '401': ERROR_RESPONSE,
      '403': ERROR_RESPONSE,
      '404': ERROR_RESPONSE,
      '410': ERROR_RESPONSE,
      '429': ERROR_RESPONSE,
      '502': ERROR_RESPONSE,
    },
  };
}

function paths(apis: readonly CatalogApi[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const api of apis)
    for (const v of api.majors) out[`/apis/${encodeURIComponent(api.name)}/v${v.major}`] = { post: operation(api, v) };
  return out;
}

function document(title: string, description: string, apis: readonly CatalogApi[]): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title, version: '1', description },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: paths(apis),
  };
}

/** The document of one API. */
export function apiOpenApi(api: CatalogApi): Record<string, unknown> {
  return document(api.name, api.description, [api]);
}

/** The document of every API the caller may see. */
export function catalogOpenApi(apis: readonly CatalogApi[]): Record<string, unknown> {
  return document('Prompt API catalog', 'The prompt APIs your team may see.', apis);
}
