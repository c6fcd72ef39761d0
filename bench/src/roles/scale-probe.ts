import { request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Histogram } from '../histogram.js';
import { LeanWebSocket } from './lean-ws.js';
import { serve } from './rpc.js';

/**
 * The scale scenario's probes, in their own process (bench/README.md, "Scale"):
 * - `/healthz` of every hub node every 500 ms (a new TCP connection each time, as a load
 *   balancer's probe): latency, failures (error, timeout or a status other than 200);
 * - a new client every ~200 ms, round robin over the nodes: POST
 *   /hubs/bench/negotiate?negotiateVersion=1 on a new TCP connection, then the WebSocket with the
 *   connection token and the SignalR handshake, each timed; then closed.
 * Figures are kept per phase (`phase` starts a new one); `report` returns them all, with this
 * process's own event-loop delay (it is nearly idle: a reference for what the shared cores did to
 * every process, the hubs included).
 */
const TIMEOUT_MS = 10_000;
/** New-client probes in flight at most: a stalled node does not pile them up. */
const MAX_IN_FLIGHT = 5;

interface Series {
  h: Histogram;
  failures: number;
  firstError?: string;
}
interface Phase {
  healthz: Series;
  negotiate: Series;
  connect: Series;
  /** New-client probes skipped because MAX_IN_FLIGHT were still running. */
  skipped: number;
  /** This process's event-loop delay over the phase. */
  loop: ReturnType<typeof monitorEventLoopDelay>;
}

const series = (): Series => ({ h: new Histogram(), failures: 0 });
function newPhase(): Phase {
  current?.loop.disable();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  return { healthz: series(), negotiate: series(), connect: series(), skipped: 0, loop };
}
/** As roles/loop-delay.ts: ms beyond the 10 ms timer. */
const beyond = (ns: number) => Math.max(0, ns / 1e6 - 10);
const phases = new Map<string, Phase>();
let current: Phase | undefined;
let urls: string[] = [];
let healthTimer: NodeJS.Timeout | undefined;
let clientTimer: NodeJS.Timeout | undefined;
let inFlight = 0;
let healthInFlight = 0;
let rr = 0;

function fail(s: Series, err: unknown): void {
  s.failures++;
  s.firstError ??= err instanceof Error ? err.message : String(err);
}

/** One HTTP request on its own connection; resolves with status and body, rejects on error or timeout. */
function http(url: string, method: 'GET' | 'POST'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function probeHealth(url: string, p: Phase): Promise<void> {
  const t0 = performance.now();
  try {
    const r = await http(`${url}/healthz`, 'GET');
    p.healthz.h.record(performance.now() - t0);
    if (r.status !== 200) fail(p.healthz, new Error(`/healthz answered ${r.status}`));
  } catch (err) {
    p.healthz.h.record(performance.now() - t0);
    fail(p.healthz, err);
  }
}

async function probeNewClient(url: string, p: Phase): Promise<void> {
  let t0 = performance.now();
  let token: string;
  try {
    const r = await http(`${url}/hubs/bench/negotiate?negotiateVersion=1`, 'POST');
    if (r.status !== 200) throw new Error(`negotiate answered ${r.status}: ${r.body.slice(0, 200)}`);
    token = (JSON.parse(r.body) as { connectionToken: string }).connectionToken;
    p.negotiate.h.record(performance.now() - t0);
  } catch (err) {
    return fail(p.negotiate, err);
  }
  t0 = performance.now();
  let ws: LeanWebSocket | undefined;
  try {
    ws = await LeanWebSocket.open(`${url.replace(/^http/, 'ws')}/hubs/bench?id=${encodeURIComponent(token)}`, TIMEOUT_MS);
    ws.send('{"protocol":"json","version":1}\u001e');
    const reply = (await ws.next('handshake reply', TIMEOUT_MS)).toString('latin1');
    if (!reply.startsWith('{}')) throw new Error(`handshake refused: ${reply.slice(0, 200)}`);
    p.connect.h.record(performance.now() - t0);
  } catch (err) {
    fail(p.connect, err);
  } finally {
    ws?.close();
  }
}

function summary(s: Series) {
  return { count: s.h.total, failures: s.failures, p50Ms: s.h.percentile(50), p99Ms: s.h.percentile(99), maxMs: s.h.percentile(100), firstError: s.firstError ?? null };
}

serve({
  /** Starts the `/healthz` probe on every url (phase `name`). */
  start(req) {
    urls = req['urls'] as string[];
    phases.set(req['phase'] as string, (current = newPhase()));
    healthTimer = setInterval(() => {
      const p = current!;
      for (const url of urls) {
        healthInFlight++;
        void probeHealth(url, p).finally(() => healthInFlight--);
      }
    }, 500);
    return null;
  },
  /** A new phase; `clients: true` also runs the new-client probe (every `everyMs`, 200 by default) from now on. */
  phase(req) {
    phases.set(req['phase'] as string, (current = newPhase()));
    if (req['clients'] === true && !clientTimer) {
      clientTimer = setInterval(
        () => {
          const p = current!;
          if (inFlight >= MAX_IN_FLIGHT) return void p.skipped++;
          inFlight++;
          void probeNewClient(urls[rr++ % urls.length]!, p).finally(() => inFlight--);
        },
        (req['everyMs'] as number | undefined) ?? 200,
      );
    }
    return null;
  },
  /** Stops probing; waits for probes in flight (up to the timeout); returns every phase's figures. */
  async report() {
    clearInterval(healthTimer);
    clearInterval(clientTimer);
    current?.loop.disable();
    const deadline = performance.now() + TIMEOUT_MS + 1000;
    while (inFlight + healthInFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return Object.fromEntries(
      [...phases].map(([name, p]) => [
        name,
        {
          healthz: summary(p.healthz),
          negotiate: summary(p.negotiate),
          connect: summary(p.connect),
          skipped: p.skipped,
          loopDelay: { p50: beyond(p.loop.percentile(50)), p99: beyond(p.loop.percentile(99)), max: beyond(p.loop.max) },
        },
      ]),
    );
  },
});
