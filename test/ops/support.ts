import { startNodeProcess, type StartedProcess } from '../support/processes.js';

/** One sample of the Prometheus text format: `name{labels} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  /** `# TYPE` of each metric family. */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** Sum of the samples named `name` whose labels include `labels`. */
  value(name: string, labels?: Record<string, string>): number;
  /** Whether any sample named `name` (with `labels`) exists. */
  has(name: string, labels?: Record<string, string>): boolean;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text exposition format 0.0.4; throws on a line it cannot read. */
export function parsePrometheus(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('#')) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (m) types.set(m[1]!, m[2]!);
      else if (!line.startsWith('# HELP ')) throw new Error(`unreadable comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`unreadable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    // Go's ParseFloat (what Prometheus uses) takes NaN in any case; prom-client writes 'Nan'.
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : /^nan$/i.test(m[3]!) ? NaN : Number(m[3]);
    if (Number.isNaN(value) && !/^nan$/i.test(m[3]!)) throw new Error(`unreadable value in: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  const matching = (name: string, labels: Record<string, string>) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    types,
    samples,
    value: (name, labels = {}) => matching(name, labels).reduce((sum, s) => sum + s.value, 0),
    has: (name, labels = {}) => matching(name, labels).length > 0,
  };
}

/** GET `url` (2 s bound): status, content type and the body (parsed when JSON). */
export async function get(url: string, init: RequestInit = {}): Promise<{ status: number; type: string | null; body: unknown; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000), ...init });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, type: res.headers.get('content-type'), body, text };
}

/** GET `<base>/metrics`, checked to be Prometheus text, parsed. */
export async function scrape(base: string): Promise<Scrape> {
  const res = await get(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${base}/metrics answered ${res.status}: ${res.text}`);
  if (!res.type?.startsWith('text/plain')) throw new Error(`GET ${base}/metrics has content type ${res.type}`);
  return parsePrometheus(res.text);
}

/** Starts `apps/hub` (port 0 on 127.0.0.1) with `env`; resolves when it listens. */
export function startHubNode(env: Record<string, string>): Promise<StartedProcess> {
  return startNodeProcess('apps/hub/dist/main.js', { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env });
}

/** Starts `apps/worker` with `env` (one thread by default); resolves on `worker ready`. */
export function startWorkerProcess(env: Record<string, string>): Promise<StartedProcess> {
  return startNodeProcess('apps/worker/dist/main.js', { POOL_SIZE: '1', LOG_LEVEL: 'warn', ...env }, 15_000, /worker ready/);
}

/** Resolves with the exit code once `p` exited, or rejects after `timeoutMs`. */
export function exitOf(p: StartedProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode, at: Date.now() });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms. Output:\n${p.output()}`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, at: Date.now() });
    });
  });
}
