import { LISTED_JOB_STATES, type JobListPage, type JobSnapshot, type JobTypeInfo, type ListedJobState } from '@switchboard/contracts';
import { formatDuration } from './duration.js';

// The human output of `types` and `list`: pure functions of what the hub answered (and `now`).

type Schema = Readonly<Record<string, unknown>>;

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => JSON.stringify(v);

function range(lo: unknown, hi: unknown, loX: unknown, hiX: unknown): string | undefined {
  const low = typeof loX === 'number' ? `>${loX}` : typeof lo === 'number' ? `${lo}` : undefined;
  const high = typeof hiX === 'number' ? `<${hiX}` : typeof hi === 'number' ? `${hi}` : undefined;
  if (low === undefined && high === undefined) return undefined;
  if (typeof loX !== 'number' && typeof hiX !== 'number') return `${low ?? ''}..${high ?? ''}`;
  return [low, high].filter(Boolean).join(' ');
}

/**
 * A JSON Schema (as zod 4's `z.toJSONSchema` writes it) in a few words: `integer 1..100`,
 * `"a" | "b"`, `string 1..20 chars /^[a-z]+$/`, `array of string`, `object {x, y?}`.
 */
export function describeType(s: Schema): string {
  if ('const' in s) return str(s['const']);
  if (Array.isArray(s['enum'])) return s['enum'].map(str).join(' | ');
  const union = s['anyOf'] ?? s['oneOf'];
  if (Array.isArray(union)) return union.filter(isSchema).map(describeType).join(' | ');
  const type = s['type'];
  if (Array.isArray(type)) return type.join(' | ');
  switch (type) {
    case 'integer':
    case 'number': {
      const r = range(s['minimum'], s['maximum'], s['exclusiveMinimum'], s['exclusiveMaximum']);
      return [type, r, typeof s['multipleOf'] === 'number' ? `step ${s['multipleOf']}` : undefined].filter(Boolean).join(' ');
    }
    case 'string': {
      const r = range(s['minLength'], s['maxLength'], undefined, undefined);
      const parts = ['string', r && `${r} chars`, typeof s['format'] === 'string' ? s['format'] : undefined, typeof s['pattern'] === 'string' ? `/${s['pattern']}/` : undefined];
      return parts.filter(Boolean).join(' ');
    }
    case 'array': {
      const r = range(s['minItems'], s['maxItems'], undefined, undefined);
      return [`array of ${isSchema(s['items']) ? describeType(s['items']) : 'any'}`, r && `(${r} items)`].filter(Boolean).join(' ');
    }
    case 'object': {
      const fields = describeFields(s);
      return fields.length ? `object {${fields.map((f) => `${f.name}${f.optional ? '?' : ''}`).join(', ')}}` : 'object';
    }
    case 'boolean':
    case 'null':
      return type;
    default:
      return 'any';
  }
}

export interface FieldInfo {
  readonly name: string;
  /** Not in `required`: may be left out (fields with a default are optional on the input side). */
  readonly optional: boolean;
  readonly type: string;
  readonly default?: string;
  readonly description?: string;
}

/** The properties of an object schema, in schema order. */
export function describeFields(schema: Schema): FieldInfo[] {
  const props = schema['properties'];
  if (!isSchema(props)) return [];
  const required = new Set(Array.isArray(schema['required']) ? schema['required'] : []);
  return Object.entries(props).map(([name, p]) => {
    const s = isSchema(p) ? p : {};
    return {
      name,
      optional: !required.has(name),
      type: describeType(s),
      ...('default' in s ? { default: str(s['default']) } : {}),
      ...(typeof s['description'] === 'string' ? { description: s['description'] } : {}),
    };
  });
}

/** Rows of cells as left-aligned columns two spaces apart (trailing spaces trimmed). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** `types`: each job with its title, description, stages, attempts and data fields. */
export function renderTypes(types: readonly JobTypeInfo[]): string {
  if (types.length === 0) return 'the hub has no jobs in its job set';
  return types
    .map((t) => {
      const lines = [t.title && t.title !== t.name ? `${t.name}  ${t.title}` : t.name];
      if (t.description) lines.push(`  ${t.description}`);
      lines.push(`  stages: ${t.stages.length ? t.stages.join(', ') : '(none)'} · attempts: ${t.attempts}`);
      const fields = describeFields(t.schema);
      if (fields.length) {
        lines.push('  data:');
        const rows = fields.map((f) => [`${f.name}${f.optional ? '?' : ''}`, [f.type, f.default !== undefined ? `(default ${f.default})` : '', f.description ? `— ${f.description}` : ''].filter(Boolean).join(' ')]);
        lines.push(...table(rows).split('\n').map((l) => `    ${l}`));
      } else {
        lines.push(`  data: ${describeType(t.schema)}`);
      }
      return lines.join('\n');
    })
    .join('\n\n');
}

/** `queued 2 · delayed 0 · active 1 · ...` in the contract's order. */
export function renderCounts(counts: Readonly<Partial<Record<ListedJobState, number>>>): string {
  return LISTED_JOB_STATES.map((s) => `${s} ${counts[s] ?? 0}`).join(' · ');
}

function firstLine(text: string, max = 60): string {
  const line = text.split('\n')[0]!;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** What else is worth a glance: when a delayed job is due, why it failed, its priority. */
function note(j: JobSnapshot, now: number): string {
  const parts: string[] = [];
  if (j.state === 'delayed' && j.dueAt !== undefined) parts.push(j.dueAt > now ? `due in ${formatDuration(j.dueAt - now)}` : 'due now');
  if (j.priority !== undefined) parts.push(`priority ${j.priority}`);
  if (j.error && j.state !== 'completed') parts.push(firstLine(j.error));
  return parts.join(' · ');
}

/** `list`: the counts, a table of the page's jobs, and how to get the next page. */
export function renderList(page: JobListPage, now: number): string {
  const lines = [renderCounts(page.counts)];
  if (page.jobs.length === 0) lines.push('no jobs');
  else {
    const rows = page.jobs.map((j) => [j.jobId, j.name, j.state, `${Math.round(j.progress)}%`, j.stage ?? '', String(j.attempt), `${formatDuration(now - j.createdAt)} ago`, note(j, now)]);
    lines.push(table([['ID', 'NAME', 'STATE', 'PROGRESS', 'STAGE', 'ATTEMPT', 'CREATED', 'NOTE'], ...rows]));
  }
  if (page.nextCursor !== undefined) lines.push(`more: --cursor ${page.nextCursor} (or --all)`);
  return lines.join('\n');
}
