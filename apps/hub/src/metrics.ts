import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BusMetrics } from '@switchboard/backplane-redis';
import type { QueueStats } from '@switchboard/contracts';
import { writeCoalescingIntervalMs, type HubServerMetrics } from '@switchboard/hub-server';
import { serveMetrics } from '@switchboard/logging';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DelayWindow } from './delay-window.js';

/** Seconds; invocations are usually sub-millisecond to a few hundred ms. */
const INVOCATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; a send crosses Redis in well under a millisecond on an idle host, tens of ms under load. */
const DELAY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Scrape-time reads from Redis give up after this, so /metrics answers even while Redis is down. */
const SCRAPE_READ_TIMEOUT_MS = 1000;

/** What the node's metrics read at scrape time (set once the parts exist). */
export interface HubMetricsSources {
  /** Whether the Redis backplane can publish now; absent without Redis. */
  backplaneConnected?: () => boolean;
  /** BullMQ queue counts; absent without Redis. */
  queueCounts?: () => Promise<QueueStats>;
  /** Finished jobs per second over the last 10 s; absent without Redis. */
  jobsPerSecond?: () => Promise<number>;
}

/**
 * The hub node's Prometheus metrics (prom-client), served at GET /metrics. Every series carries
 * `node_id`. The hub-server and Redis bus report through the small hook interfaces they define
 * (`hubServer`, `bus`), so the libraries never import prom-client.
 */
export class HubMetrics {
  readonly registry = new Registry();
  readonly hubServer: HubServerMetrics;
  readonly bus: BusMetrics;
  /** The delays of arriving sends since the system monitor last took them (the dashboard's per-node figures). */
  readonly delays = new DelayWindow();
  private sources: HubMetricsSources = {};

  /** `withRedis`: register the backplane, queue and job-rate series (absent on a node without Redis). */
  constructor(nodeId: string, withRedis: boolean) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node_id: nodeId });
    collectDefaultMetrics({ register: this.registry });

    const open = new Gauge({ name: 'switchboard_connections', help: 'Open hub connections (handshake done).', labelNames: ['hub', 'transport', 'protocol'], registers });
    const opened = new Counter({ name: 'switchboard_connections_opened_total', help: 'Hub connections opened.', labelNames: ['hub', 'transport', 'protocol'], registers });
    const closed = new Counter({ name: 'switchboard_connections_closed_total', help: 'Hub connections closed.', labelNames: ['hub', 'transport', 'protocol'], registers });
    const msgIn = new Counter({ name: 'switchboard_messages_received_total', help: 'Hub messages received from clients.', labelNames: ['hub'], registers });
    const msgOut = new Counter({ name: 'switchboard_messages_sent_total', help: 'Hub messages sent to clients (handshake and Close included).', labelNames: ['hub'], registers });
    const bytesIn = new Counter({ name: 'switchboard_received_bytes_total', help: 'Bytes of hub messages received from clients.', labelNames: ['hub'], registers });
    const bytesOut = new Counter({ name: 'switchboard_sent_bytes_total', help: 'Bytes written to clients.', labelNames: ['hub'], registers });
    const invocations = new Histogram({
      name: 'switchboard_invocation_duration_seconds',
      help: 'Hub method run time, by hub, method and outcome (ok or error); _count counts invocations.',
      labelNames: ['hub', 'method', 'outcome'],
      buckets: INVOCATION_BUCKETS,
      registers,
    });
    // The message hooks run once per frame: bind each hub's children once, not a label lookup per call.
    const children = new Map<string, { msgIn: Counter.Internal; msgOut: Counter.Internal; bytesIn: Counter.Internal; bytesOut: Counter.Internal }>();
    const perHub = (hub: string) => {
      let c = children.get(hub);
      if (!c) children.set(hub, (c = { msgIn: msgIn.labels(hub), msgOut: msgOut.labels(hub), bytesIn: bytesIn.labels(hub), bytesOut: bytesOut.labels(hub) }));
      return c;
    };
    this.hubServer = {
      connectionOpened: (hub, transport, protocol) => {
        open.inc({ hub, transport, protocol });
        opened.inc({ hub, transport, protocol });
      },
      connectionClosed: (hub, transport, protocol) => {
        open.dec({ hub, transport, protocol });
        closed.inc({ hub, transport, protocol });
      },
      messagesReceived: (hub, messages, bytes) => {
        const c = perHub(hub);
        if (messages) c.msgIn.inc(messages);
        c.bytesIn.inc(bytes);
      },
      messagesSent: (hub, messages, bytes) => {
        const c = perHub(hub);
        c.msgOut.inc(messages);
        c.bytesOut.inc(bytes);
      },
      invocation: (hub, method, ms, ok) => invocations.observe({ hub, method, outcome: ok ? 'ok' : 'error' }, ms / 1000),
    };

    new Gauge({
      name: 'switchboard_write_coalescing_ms',
      help: 'How long writes to busy connections are held back to leave in fewer frames (0 = not at all); rises when the event loop runs late, up to MAX_WRITE_DELAY_MS.',
      registers,
      collect() {
        this.set(writeCoalescingIntervalMs());
      },
    });

    this.bus = {};
    if (!withRedis) return;
    const published = new Counter({ name: 'switchboard_backplane_published_total', help: 'Messages published to the Redis backplane.', registers });
    const publishErrors = new Counter({ name: 'switchboard_backplane_publish_errors_total', help: 'Publishes to the Redis backplane that failed.', registers });
    const received = new Counter({ name: 'switchboard_backplane_received_total', help: 'Messages received from the Redis backplane.', registers });
    const connErrors = new Counter({ name: 'switchboard_backplane_connection_errors_total', help: 'Redis connection errors of the backplane.', labelNames: ['role'], registers });
    const delay = new Histogram({
      name: 'switchboard_backplane_delay_seconds',
      help: 'Time from a send\'s publish (a worker\'s hub context or another node) to its arrival at this node, by hub; the write to connections follows within switchboard_write_coalescing_ms. Across machines it includes their clock offset.',
      labelNames: ['hub'],
      buckets: DELAY_BUCKETS,
      registers,
    });
    const delayByHub = new Map<string, Histogram.Internal<string>>();
    const delays = this.delays;
    Object.assign(this.bus, {
      published: () => published.inc(),
      publishFailed: () => publishErrors.inc(),
      received: () => received.inc(),
      connectionError: (role: string) => connErrors.inc({ role }),
      sendArrived: (hub: string, ms: number) => {
        let child = delayByHub.get(hub);
        if (!child) delayByHub.set(hub, (child = delay.labels(hub)));
        child.observe(ms / 1000);
        delays.record(ms);
      },
    } satisfies BusMetrics);

    const sources = () => this.sources;
    new Gauge({
      name: 'switchboard_backplane_connected',
      help: '1 while the Redis backplane can publish, 0 while it cannot.',
      registers,
      collect() {
        const connected = sources().backplaneConnected;
        if (connected) this.set(connected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'switchboard_queue_jobs',
      help: 'Jobs in the BullMQ queue by state (waiting, active, delayed, completed, failed); read at scrape time.',
      labelNames: ['state'],
      registers,
      async collect() {
        const read = sources().queueCounts;
        const counts = read ? await withTimeout(read()) : undefined;
        this.reset();
        if (counts) for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'switchboard_jobs_finished_per_second',
      help: 'Jobs that reached a terminal state per second, over the last 10 s (all workers).',
      registers,
      async collect() {
        const read = sources().jobsPerSecond;
        const rate = read ? await withTimeout(read()) : undefined;
        this.reset();
        if (rate !== undefined) this.set(rate);
      },
    });
  }

  /** Tells the metrics where to read scrape-time values. */
  setSources(sources: HubMetricsSources): void {
    this.sources = sources;
  }

  /** Serves GET /metrics (Prometheus text format); false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== '/metrics') return false;
    serveMetrics(this.registry, req, res);
    return true;
  }
}

/** The value, or undefined if it fails or takes longer than SCRAPE_READ_TIMEOUT_MS. */
async function withTimeout<T>(p: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SCRAPE_READ_TIMEOUT_MS)));
  try {
    return await Promise.race([p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
