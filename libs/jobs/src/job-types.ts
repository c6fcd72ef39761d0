import type { JobTypeInfo } from '@switchboard/contracts';
import { z } from 'zod';
import type { JobDefinition } from './define-job.js';
import { definedOnly } from './defined-only.js';

/**
 * What clients learn about a job set (`jobTypes()`, `GET /api/job-types`): names, titles, stages,
 * attempts, and the data's JSON Schema for the input side (what `enqueue` takes: fields with
 * defaults are optional), so a form can be generated for any job. A schema that is not a zod
 * schema, or parts zod cannot express in JSON Schema (transforms, custom checks), become `{}`
 * (anything): the hub validates with the real schema anyway.
 */
export function describeJobTypes(definitions: readonly JobDefinition[]): JobTypeInfo[] {
  return definitions.map((d) =>
    definedOnly({
      name: d.name,
      title: d.title,
      description: d.description,
      stages: [...d.stages],
      attempts: d.attempts,
      schema: jsonSchemaOf(d.schema),
    }),
  );
}

function jsonSchemaOf(schema: unknown): Record<string, unknown> {
  if (typeof schema !== 'object' || schema === null || !('_zod' in schema)) return {};
  try {
    return z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return {};
  }
}
