// Job data schemas as the hub's jobTypes() returns them, for the form's unit tests.

/** What zod 4's `z.toJSONSchema(schema, { io: 'input' })` writes for every field kind (copied from its output). */
export const KINDS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    count: { type: 'integer', minimum: 1, maximum: 10, description: 'How many' },
    ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 5, multipleOf: 0.5 },
    color: { default: 'red', type: 'string', enum: ['red', 'green'] },
    code: { type: 'string', minLength: 3, maxLength: 3, pattern: '^[A-Z]{3}$' },
    flag: { type: 'boolean' },
    note: { type: 'string' },
    nested: { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] },
    list: { maxItems: 3, type: 'array', items: { type: 'string' } },
    un: { type: ['string', 'number'] },
    rec: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'number' } },
    lit: { type: 'string', const: 'x' },
    nul: { type: ['string', 'null'] },
    big: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
    opt: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
  },
  required: ['count', 'ratio', 'code', 'nested', 'list', 'un', 'rec', 'nul', 'big'],
  additionalProperties: false,
};

/** libs/jobs/src/examples/demo-jobs.ts `pipeline`. */
export const PIPELINE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    items: { type: 'integer', minimum: 1, maximum: 1000000 },
    delayMs: { type: 'integer', minimum: 0, maximum: 60000 },
    failAtStage: { type: 'string', enum: ['fetch', 'transform', 'publish'] },
    failAttempts: { type: 'integer', minimum: 1, maximum: 10 },
  },
  required: ['items'],
  additionalProperties: false,
};
