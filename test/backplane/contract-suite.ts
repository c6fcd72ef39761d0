import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientPool, delay, signalR, type ProtocolName } from '../support/signalr.js';
import { CONTRACT_HUB_PATH } from './contract-hub.js';
import { within } from '../support/timing.js';

/**
 * The scale-out contract (see `ScaleOut` in libs/hub-server/src/scaleout/scaleout.ts), checked end to end
 * with official `@microsoft/signalr` clients (JSON and MessagePack) spread over two hub nodes.
 * Every implementation runs the same cases: two in-process HubServers over a MemoryBroker, two
 * node processes over standalone Redis, two over a Redis Cluster; and a single MemoryScaleOut
 * node (both "nodes" are the same URL, cross-node-only checks are skipped).
 */
export interface ContractNodes {
  /** Base URLs (`http://127.0.0.1:port`) of node A and node B; the same URL twice for one node. */
  readonly urls: readonly [string, string];
  /** The nodes' `clientResultTimeoutMs`; when set, the client-result timeout case runs. */
  readonly clientResultTimeoutMs?: number;
  /** Error-level log lines the nodes wrote so far; the suite ends by checking there are none. */
  errorLines?(): string[];
  close(): Promise<void>;
}

/** After the expected deliveries arrived, how long to keep listening for extra or duplicate ones. */
const SETTLE_MS = 100;
/** Upper bound for any single wait (an invocation, the expected deliveries). */
const WAIT_MS = 5000;

interface Peer {
  readonly label: string;
  readonly node: 0 | 1;
  readonly protocol: ProtocolName;
  readonly user: string | undefined;
  readonly conn: signalR.HubConnection;
  readonly id: string;
  /** Tags of every `Receive` call, in arrival order (never cleared; checks filter by tag). */
  readonly received: string[];
  /** Questions this client was asked (client results), in arrival order. */
  readonly asked: string[];
}

/** What one check expects: for every tag in `tags`, exactly these copies per peer (others get none). */
interface Expectation {
  readonly tags: Set<string>;
  readonly to: Map<Peer, string[]>;
}

/** `tag` delivered once to each listed peer per time it is listed (no peer listed: to nobody). */
function deliveries(tag: string, ...peers: Peer[]): Expectation {
  const to = new Map<Peer, string[]>();
  for (const p of peers) to.set(p, [...(to.get(p) ?? []), tag]);
  return { tags: new Set([tag]), to };
}

function merge(...parts: Expectation[]): Expectation {
  const out: Expectation = { tags: new Set(), to: new Map() };
  for (const part of parts) {
    for (const t of part.tags) out.tags.add(t);
    for (const [p, list] of part.to) out.to.set(p, [...(out.to.get(p) ?? []), ...list]);
  }
  return out;
}

interface WhoAmI {
  connectionId: string;
  user: string | null;
  node: string | null;
  protocol: string;
}

/** Settles with the rejection error (fails the test if `promise` resolves). */
async function rejection(promise: Promise<unknown>, what: string): Promise<Error> {
  const outcome = await within(
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    WAIT_MS,
    what,
  );
  if (outcome.ok) throw new Error(`${what} resolved with ${JSON.stringify(outcome.value)}; expected a rejection`);
  return outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
}

/** Sends negotiate to another node than the one the WebSocket then opens on. */
class NegotiateElsewhere extends signalR.DefaultHttpClient {
  readonly negotiated: string[] = [];
  constructor(
    private readonly from: string,
    private readonly to: string,
  ) {
    super(signalR.NullLogger.instance);
  }

  override send(request: signalR.HttpRequest): Promise<signalR.HttpResponse> {
    if (request.url?.includes('/negotiate')) {
      const url = request.url.replace(this.from, this.to);
      this.negotiated.push(url);
      return super.send({ ...request, url });
    }
    return super.send(request);
  }
}

export function scaleOutContract(name: string, setup: () => Promise<ContractNodes>): void {
  describe(name, () => {
    let nodes: ContractNodes;
    let crossNode = true;
    const pool = clientPool();
    /** Connected peers whose deliveries every check compares (fixture plus a case's extras). */
    const live: Peer[] = [];
    /** Every peer ever connected, and every delivery any check expected (for the final audit). */
    const everyone: Peer[] = [];
    const ledger = new Map<Peer, string[]>();
    const fx: Record<string, Peer> = {};
    let tagCounter = 0;

    const hubUrl = (node: 0 | 1, user?: string) => `${nodes.urls[node]}${CONTRACT_HUB_PATH}${user ? `?user=${encodeURIComponent(user)}` : ''}`;
    const tag = (what: string) => `${what}#${++tagCounter}-☃`;

    function attach(label: string, node: 0 | 1, protocol: ProtocolName, user: string | undefined, conn: signalR.HubConnection, who: WhoAmI): Peer {
      const peer: Peer = { label, node, protocol, user, conn, id: who.connectionId, received: [], asked: [] };
      conn.on('Receive', (t: string) => peer.received.push(t));
      conn.on('Answer', (question: string) => {
        peer.asked.push(question);
        if (question.startsWith('hang')) return new Promise(() => {});
        if (question.startsWith('fail')) throw new Error(`${label} refuses '${question}'`);
        return `${label}:${question}`;
      });
      live.push(peer);
      everyone.push(peer);
      return peer;
    }

    /** Connects an official client to `node` and checks where it landed. */
    async function connect(label: string, node: 0 | 1, protocol: ProtocolName, user?: string): Promise<Peer> {
      const conn = await within(pool.connect(hubUrl(node, user), { protocol }), WAIT_MS, `connecting ${label}`);
      // WhoAmI checks where the connection landed (its id, user, node and protocol).
      const who = await within(conn.invoke<WhoAmI>('WhoAmI'), WAIT_MS, `${label}: WhoAmI`);
      expect(who).toEqual({ connectionId: conn.connectionId, user: user ?? null, node: new URL(nodes.urls[node]).host, protocol });
      return attach(label, node, protocol, user, conn, who);
    }

    async function disconnect(peer: Peer): Promise<void> {
      live.splice(live.indexOf(peer), 1);
      await within(peer.conn.stop(), WAIT_MS, `stopping ${peer.label}`);
    }

    /** Invokes a hub method and expects it to resolve (bounded). */
    function call(peer: Peer, method: string, ...args: unknown[]): Promise<unknown> {
      return within(peer.conn.invoke(method, ...args), WAIT_MS, `${peer.label}: ${method}(${JSON.stringify(args)})`);
    }

    /**
     * Waits until every peer received at least the expected copies of the expectation's tags, then
     * `SETTLE_MS` more, and compares the exact multiset of those tags per live peer (unlisted peers
     * must get none). Checks of concurrent cases do not disturb each other: tags are unique.
     */
    async function expectDeliveries(e: Expectation, ordered = false): Promise<void> {
      const want = (p: Peer) => e.to.get(p) ?? [];
      const got = (p: Peer) => p.received.filter((t) => e.tags.has(t));
      for (const p of e.to.keys()) if (!live.includes(p)) throw new Error(`${p.label} is not connected`);
      for (const [p, list] of e.to) ledger.set(p, [...(ledger.get(p) ?? []), ...list]);
      const deadline = Date.now() + WAIT_MS;
      while (live.some((p) => got(p).length < want(p).length) && Date.now() < deadline) await delay(5);
      await delay(SETTLE_MS);
      const view = (list: (p: Peer) => readonly string[]) => Object.fromEntries(live.map((p) => [p.label, ordered ? [...list(p)] : [...list(p)].sort()]));
      expect(view(got)).toEqual(view(want));
    }

    beforeAll(async () => {
      nodes = await setup();
      crossNode = nodes.urls[0] !== nodes.urls[1];
      // Two nodes; users alice (A and B), bob (A), carol (B); two anonymous; both protocols on both.
      const specs: [string, 0 | 1, ProtocolName, string | undefined][] = [
        ['a1', 0, 'json', 'alice'],
        ['a2', 0, 'messagepack', 'bob'],
        ['a3', 0, 'json', undefined],
        ['b1', 1, 'messagepack', 'alice'],
        ['b2', 1, 'json', 'carol'],
        ['b3', 1, 'messagepack', undefined],
      ];
      for (const p of await Promise.all(specs.map(([l, n, pr, u]) => connect(l, n, pr, u)))) fx[p.label] = p;
      const { a1, a2, a3, b1, b2, b3 } = fx as Record<'a1' | 'a2' | 'a3' | 'b1' | 'b2' | 'b3', Peer>;
      // Each joins its own groups (local adds): red spans both nodes, green is only on A.
      const joins: [Peer, string][] = [
        [a1, 'red'], [b1, 'red'], [b2, 'red'],
        [a2, 'blue'], [b3, 'blue'],
        [a3, 'green'],
        [b1, 'amber'], [a3, 'amber'],
      ];
      await Promise.all(joins.map(([p, g]) => call(p, 'Join', g)));
    });

    afterAll(async () => {
      await pool.stopAll();
      live.length = 0;
      await nodes?.close();
    });

    const P = () => fx as Record<'a1' | 'a2' | 'a3' | 'b1' | 'b2' | 'b3', Peer>;

    it('fixture: six connections with distinct ids (each on its node: checked with WhoAmI at connect)', () => {
      expect(new Set(Object.values(P()).map((p) => p.id)).size).toBe(6);
    });

    it('groups.count: the members on every node, asked from either node (red spans both, green is on A only)', async () => {
      const { a3, b2 } = P();
      const want = { red: 3, blue: 2, green: 1, amber: 2, nobody: 0 };
      for (const from of [a3, b2]) {
        const got = Object.fromEntries(await Promise.all(Object.keys(want).map(async (g) => [g, await call(from, 'CountMembers', g)])));
        expect(got, from.label).toEqual(want);
      }
    });

    // The cases of this block run concurrently (unique tags keep their checks apart).
    describe.concurrent('every target reaches exactly the intended connections, exactly once', () => {
      type Case = [title: string, run: (f: ReturnType<typeof P>, t: string) => { from: Peer; method: string; args: unknown[]; to: Peer[] }];
      const cases: Case[] = [
        ['all (sender on A)', ({ a1, a2, a3, b1, b2, b3 }, t) => ({ from: a1, method: 'ToAll', args: [t], to: [a1, a2, a3, b1, b2, b3] })],
        ['all (sender on B)', ({ a1, a2, a3, b1, b2, b3 }, t) => ({ from: b3, method: 'ToAll', args: [t], to: [a1, a2, a3, b1, b2, b3] })],
        ['allExcept one per node', ({ a1, a2, a3, b1, b2, b3 }, t) => ({ from: b1, method: 'ToAllExcept', args: [[a2.id, b3.id], t], to: [a1, a3, b1, b2] })],
        ['client on the other node', ({ a1, b2 }, t) => ({ from: a1, method: 'ToClient', args: [b2.id, t], to: [b2] })],
        ['client on the same node', ({ a1, a3 }, t) => ({ from: a1, method: 'ToClient', args: [a3.id, t], to: [a3] })],
        ['clients on both nodes, one id listed twice', ({ a2, a3, b1, b3 }, t) => ({ from: a3, method: 'ToClients', args: [[a2.id, b3.id, b3.id, b1.id], t], to: [a2, b3, b1] })],
        ['group with members on both nodes, from a non-member on A', ({ a1, a3, b1, b2 }, t) => ({ from: a3, method: 'ToGroup', args: ['red', t], to: [a1, b1, b2] })],
        ['group with members on both nodes, from a non-member on B', ({ a1, b1, b2, b3 }, t) => ({ from: b3, method: 'ToGroup', args: ['red', t], to: [a1, b1, b2] })],
        ['group held only by the other node', ({ a3, b2 }, t) => ({ from: b2, method: 'ToGroup', args: ['green', t], to: [a3] })],
        ['groups, one listed twice', ({ a1, a2, a3, b1, b2, b3 }, t) => ({ from: a3, method: 'ToGroups', args: [['red', 'blue', 'blue'], t], to: [a1, b1, b2, a2, b3] })],
        // As ASP.NET Core: a connection in two of the groups gets one copy per group.
        ['groups sharing a member: one copy per group', ({ a1, a2, a3, b1, b2 }, t) => ({ from: a2, method: 'ToGroups', args: [['red', 'amber'], t], to: [a1, b1, b2, b1, a3] })],
        ['groupExcept a member on B', ({ a1, a2, b1, b2 }, t) => ({ from: a2, method: 'ToGroupExcept', args: ['red', [b1.id], t], to: [a1, b2] })],
        ['groupExcept members on both nodes', ({ a1, b1, b2, b3 }, t) => ({ from: b3, method: 'ToGroupExcept', args: ['red', [a1.id, b2.id], t], to: [b1] })],
        ['user with a connection on each node', ({ a1, b1, b2 }, t) => ({ from: b2, method: 'ToUser', args: ['alice', t], to: [a1, b1] })],
        ['user held only by the other node', ({ a2, b1 }, t) => ({ from: b1, method: 'ToUser', args: ['bob', t], to: [a2] })],
        ['users, one listed twice', ({ a1, a3, b1, b2 }, t) => ({ from: a3, method: 'ToUsers', args: [['alice', 'carol', 'alice'], t], to: [a1, b1, b2] })],
        ['others (caller on A)', ({ a1, a2, a3, b1, b2, b3 }, t) => ({ from: a1, method: 'ToOthers', args: [t], to: [a2, a3, b1, b2, b3] })],
        ['others (caller on B)', ({ a1, a2, a3, b1, b2, b3 }, t) => ({ from: b2, method: 'ToOthers', args: [t], to: [a1, a2, a3, b1, b3] })],
        ['caller', ({ b3 }, t) => ({ from: b3, method: 'ToCaller', args: [t], to: [b3] })],
        ['othersInGroup (caller on B)', ({ a1, b1, b2 }, t) => ({ from: b1, method: 'ToOthersInGroup', args: ['red', t], to: [a1, b2] })],
        ['othersInGroup whose other member is on the other node', ({ a2, b3 }, t) => ({ from: a2, method: 'ToOthersInGroup', args: ['blue', t], to: [b3] })],
      ];

      it.each(cases)('%s', async (title, run) => {
        const t = tag(title);
        const { from, method, args, to } = run(P(), t);
        await expect(call(from, method, ...args)).resolves.toBeUndefined();
        await expectDeliveries(deliveries(t, ...to));
      });

      it('sends to targets without connections resolve and reach nobody', async () => {
        const { a1, b2 } = P();
        const t = tag('nobody');
        await call(a1, 'ToUser', 'nobody', t);
        await call(a1, 'ToUsers', ['nobody', 'no-one'], t);
        await call(b2, 'ToGroup', 'empty', t);
        await call(b2, 'ToGroups', ['empty', 'void'], t);
        await call(a1, 'ToGroupExcept', 'empty', [b2.id], t);
        await call(a1, 'ToClient', 'no-such-connection', t);
        await call(b2, 'ToClients', ['no-such-connection', 'nor-this'], t);
        // Positive control on the same paths: the nodes still deliver.
        const control = tag('control');
        await call(a1, 'ToAll', control);
        await expectDeliveries(merge(deliveries(t), deliveries(control, ...live)));
      });

      it('one sender to one connection keeps the order (other node and same node)', async () => {
        const { a3, b1, a2 } = P();
        const remote = tag('order-remote');
        const local = tag('order-local');
        const burst = (prefix: string) => Array.from({ length: 40 }, (_, i) => `${prefix}/${i}`);
        await call(a3, 'ToClientBurst', b1.id, `${remote}/`, 40);
        await call(a3, 'ToClientBurst', a2.id, `${local}/`, 40);
        const tags = new Set([...burst(remote), ...burst(local)]);
        await expectDeliveries({ tags, to: new Map([[b1, burst(remote)], [a2, burst(local)]]) }, true);
      });
    });

    describe('group membership, also changed from a node that does not hold the connection', () => {
      it('add and remove a connection on B from A (and one on A from B); sends follow', async () => {
        const { a1, a2, a3, b1, b2, b3 } = P();
        // b3 is added by a1 (on A); B held no member of 'remote' before.
        await expect(call(a1, 'AddOther', b3.id, 'remote')).resolves.toBeUndefined();
        let t = tag('remote-1');
        await call(a2, 'ToGroup', 'remote', t);
        await expectDeliveries(deliveries(t, b3));

        t = tag('remote-2');
        await call(b2, 'ToGroup', 'remote', t);
        await expectDeliveries(deliveries(t, b3));

        // A member on B stays (control), b3 is removed from A.
        await call(b2, 'Join', 'remote');
        await expect(call(a1, 'RemoveOther', b3.id, 'remote')).resolves.toBeUndefined();
        t = tag('remote-3');
        await call(a2, 'ToGroup', 'remote', t);
        await expectDeliveries(deliveries(t, b2));

        // a3 (on A) is added by b1 (on B).
        await expect(call(b1, 'AddOther', a3.id, 'remote')).resolves.toBeUndefined();
        t = tag('remote-4');
        await call(b3, 'ToGroup', 'remote', t);
        await expectDeliveries(deliveries(t, b2, a3));

        // The last members leave, removed remotely: nobody receives; a control still arrives.
        await call(a1, 'RemoveOther', b2.id, 'remote');
        await call(b1, 'RemoveOther', a3.id, 'remote');
        t = tag('remote-5');
        const control = tag('remote-control');
        await call(a2, 'ToGroup', 'remote', t);
        await call(b1, 'ToGroup', 'remote', t);
        await call(a2, 'ToGroup', 'red', control);
        await expectDeliveries(merge(deliveries(t), deliveries(control, a1, b1, b2)));
      });

      it('concurrent adds to one group on one node: as soon as an add resolved, sends from the other node reach it', async () => {
        const { a1, a3 } = P();
        const [x, y, z] = await Promise.all([connect('race-x@B', 1, 'json'), connect('race-y@B', 1, 'messagepack'), connect('race-z@B', 1, 'json')]);
        // Node B holds no member of 'race' before. Whichever add resolves first (the one that
        // subscribes B to the group, or one that finds that subscription under way), the group
        // must already be reachable from node A when it does.
        // The remote add (from node A) travels on another channel than the send: on a Cluster
        // they can be on different shards, with no order between them, so it joins the race but
        // is only expected to receive once it has resolved (the second send).
        const local = [call(x, 'Join', 'race'), call(y, 'Join', 'race')];
        const remote = call(a1, 'AddOther', z.id, 'race');
        await Promise.race(local);
        const t = tag('race');
        await call(a3, 'ToGroup', 'race', t);
        await Promise.all([...local, remote]);
        const zGotFirst = await new Promise<boolean>((resolve) => setTimeout(() => resolve(z.received.includes(t)), 300));
        await expectDeliveries(deliveries(t, x, y, ...(zGotFirst ? [z] : [])));
        const t2 = tag('race');
        await call(a3, 'ToGroup', 'race', t2);
        await expectDeliveries(deliveries(t2, x, y, z));
        await Promise.all([disconnect(x), disconnect(y), disconnect(z)]);
      });

      it('adding twice (locally and remotely) still delivers once; removing a non-member resolves', async () => {
        const { a1, a2, b2, b3 } = P();
        await call(a1, 'AddOther', b3.id, 'twice');
        await call(a2, 'AddOther', b3.id, 'twice');
        await call(b3, 'Join', 'twice');
        await expect(call(a1, 'RemoveOther', b2.id, 'twice')).resolves.toBeUndefined();
        const t = tag('twice');
        await call(a1, 'ToGroup', 'twice', t);
        await call(b2, 'ToGroup', 'twice', t);
        await expectDeliveries(deliveries(t, b3, b3));
      });

      it('routed membership: sends naming the members\' nodes (and the sender\'s own members) reach them, plain group sends do not; a final send ends it', async () => {
        const { a1, a2, b1, b2 } = P();
        const ra = (await call(a1, 'JoinRouted', 'routed')) as string | null;
        const rb = (await call(b1, 'JoinRouted', 'routed')) as string | null;
        const routes = [ra, rb].filter((r): r is string => r !== null);
        // Either every node routes (a bus: one id per node) or none does (one node: members joined with `add`).
        expect(routes.length === 0 || (routes.length === 2 && ra !== rb)).toBe(true);
        let t = tag('routed-both');
        await call(a2, 'ToGroupVia', 'routed', routes, t, false);
        await call(b2, 'ToGroupVia', 'routed', routes, t, false);
        await expectDeliveries(deliveries(t, a1, b1, a1, b1));
        if (routes.length) {
          // Naming only A: B's member misses it (the sending node's own members always get it).
          t = tag('routed-a');
          await call(a2, 'ToGroupVia', 'routed', [ra], t, false);
          await expectDeliveries(deliveries(t, a1));
          t = tag('routed-a-from-b');
          await call(b2, 'ToGroupVia', 'routed', [ra], t, false);
          await expectDeliveries(deliveries(t, a1, b1));
          t = tag('routed-plain');
          await call(a2, 'ToGroup', 'routed', t);
          await expectDeliveries(deliveries(t, a1)); // only A's own members: no node holds the channel
        }
        t = tag('routed-final');
        await call(b2, 'ToGroupVia', 'routed', routes, t, true);
        await expectDeliveries(deliveries(t, a1, b1));
        t = tag('routed-after');
        const control = tag('routed-control');
        await call(a2, 'ToGroupVia', 'routed', routes, t, false);
        await call(a2, 'ToGroup', 'red', control);
        await expectDeliveries(merge(deliveries(t), deliveries(control, a1, b1, b2)));
      });

      it('adding or removing an unknown connection rejects with SB_CONNECTION_NOT_FOUND at once', async () => {
        const { a1 } = P();
        const started = Date.now();
        const add = await rejection(a1.conn.invoke('AddOther', 'no-such-connection', 'g'), 'AddOther(unknown)');
        expect(add.message).toMatch(/SB_CONNECTION_NOT_FOUND/);
        const remove = await rejection(a1.conn.invoke('RemoveOther', 'no-such-connection', 'g'), 'RemoveOther(unknown)');
        expect(remove.message).toMatch(/SB_CONNECTION_NOT_FOUND/);
        expect(Date.now() - started).toBeLessThan(2000);
      });
    });

    describe('connect', () => {
      it('a connection is reachable from the other node as soon as start() resolved', async () => {
        const { a1 } = P();
        const conn = await within(pool.connect(hubUrl(1, 'frank'), { protocol: 'messagepack' }), WAIT_MS, 'frank: start');
        const id = conn.connectionId!;
        const frank = attach('frank@B', 1, 'messagepack', 'frank', conn, { connectionId: id, user: 'frank', node: null, protocol: 'messagepack' });
        // No round trip to node B first: node A targets the new connection right away.
        await call(a1, 'AddOther', id, 'fresh');
        const t = tag('fresh');
        await call(a1, 'ToClient', id, t);
        await call(a1, 'ToUser', 'frank', t);
        await call(a1, 'ToGroup', 'fresh', t);
        await expectDeliveries(deliveries(t, frank, frank, frank));
        await disconnect(frank);
      });
    });

    describe('users', () => {
      it('a user with connections on both nodes receives on every connection; then on the remaining one', async () => {
        const { a3 } = P();
        const [d1, d2, d3] = await Promise.all([connect('dave@A', 0, 'json', 'dave'), connect('dave@B-1', 1, 'messagepack', 'dave'), connect('dave@B-2', 1, 'json', 'dave')]);
        let t = tag('dave');
        await call(a3, 'ToUser', 'dave', t);
        await expectDeliveries(deliveries(t, d1, d2, d3));

        // One of two on B leaves: the other still receives (per-user subscription is counted).
        await disconnect(d2);
        t = tag('dave-2');
        await call(a3, 'ToUser', 'dave', t);
        await expectDeliveries(deliveries(t, d1, d3));

        await disconnect(d3);
        t = tag('dave-3');
        await call(d1, 'ToUsers', ['dave', 'carol'], t);
        await expectDeliveries(deliveries(t, d1, P().b2));
        await disconnect(d1);
      });
    });

    // Independent cases (unique questions, own extra connections): they run concurrently.
    describe.concurrent('client results across nodes', () => {
      /** Labels of the connected peers that were asked `question`, once per time. */
      const askedWhom = (question: string) => live.flatMap((p) => p.asked.filter((q) => q === question).map(() => p.label));

      it('A asks a connection on B (and B one on A, and locally): each gets that client answer', async () => {
        const { a1, a2, a3, b1, b2, b3 } = P();
        const q = [tag('q'), tag('q'), tag('q'), tag('q')] as const;
        await expect(call(a1, 'Ask', b2.id, q[0])).resolves.toBe(`b2:${q[0]}`);
        await expect(call(b1, 'Ask', a3.id, q[1])).resolves.toBe(`a3:${q[1]}`);
        await expect(call(a2, 'Ask', b3.id, q[2])).resolves.toBe(`b3:${q[2]}`);
        await expect(call(a1, 'Ask', a2.id, q[3])).resolves.toBe(`a2:${q[3]}`);
        expect(q.map(askedWhom)).toEqual([['b2'], ['a3'], ['b3'], ['a2']]);
      });

      it('concurrent questions in both directions get their own answers', async () => {
        const { a1, a2, a3, b1, b2, b3 } = P();
        const pairs: [Peer, Peer][] = [[a1, b2], [a2, b3], [a3, b1], [b1, a1], [b2, a2], [b3, a3], [a1, b3], [b2, a3]];
        const questions = pairs.map(() => tag('c'));
        const answers = await Promise.all(pairs.map(([from, to], i) => call(from, 'Ask', to.id, questions[i])));
        expect(answers).toEqual(pairs.map(([, to], i) => `${to.label}:${questions[i]}`));
        expect(questions.map(askedWhom)).toEqual(pairs.map(([, to]) => [to.label]));
      });

      it("the client's error comes back as the rejection", async () => {
        const { a1, b1 } = P();
        const q = tag('fail');
        const err = await rejection(a1.conn.invoke('Ask', b1.id, q), 'Ask(fail)');
        expect(err.message).toMatch(/SB_CLIENT_RESULT_ERROR/);
        expect(err.message).toContain(`b1 refuses '${q}'`);
      });

      it('asking a stopped connection rejects with a clear error, not a hang', async () => {
        const { a1 } = P();
        const gone = await connect('gone@B', 1, 'json');
        await disconnect(gone);
        const err = await rejection(a1.conn.invoke('Ask', gone.id, 'anyone?'), 'Ask(stopped connection)');
        expect(err.message).toMatch(/SB_CONNECTION_NOT_FOUND|SB_CONNECTION_CLOSED/);
        expect(err.message).toContain(gone.id);
      });

      it('a connection that disconnects while its answer is pending fails the call with SB_CONNECTION_CLOSED', async () => {
        const { a2 } = P();
        const leaving = await connect('leaving@B', 1, 'messagepack');
        const started = Date.now();
        const pending = rejection(a2.conn.invoke('Ask', leaving.id, 'hang-then-leave'), 'Ask(connection leaving)');
        const deadline = Date.now() + WAIT_MS;
        while (!leaving.asked.length && Date.now() < deadline) await delay(5);
        expect(leaving.asked).toEqual(['hang-then-leave']);
        await disconnect(leaving);
        const err = await pending;
        expect(err.message).toMatch(/SB_CONNECTION_CLOSED/);
        if (nodes.clientResultTimeoutMs) expect(Date.now() - started).toBeLessThan(nodes.clientResultTimeoutMs);
      });

      it('a client that never answers fails the call with SB_CLIENT_RESULT_TIMEOUT from the owning node', async (ctx) => {
        const timeoutMs = nodes.clientResultTimeoutMs;
        if (!timeoutMs) return ctx.skip();
        const { b1, a3 } = P();
        const started = Date.now();
        const err = await rejection(b1.conn.invoke('Ask', a3.id, tag('hang-forever')), 'Ask(never answered)');
        const elapsed = Date.now() - started;
        expect(err.message).toMatch(/SB_CLIENT_RESULT_TIMEOUT/);
        expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 50);
        expect(elapsed).toBeLessThan(timeoutMs + 1500);
      });
    });

    describe('disconnects', () => {
      it('a disconnected connection leaves its groups: sends resolve, members left get one copy, it cannot be re-added', async () => {
        const { a1, a3, b2 } = P();
        const x = await connect('x@B', 1, 'json');
        const y = await connect('y@B', 1, 'messagepack');
        await call(x, 'Join', 'leaving');
        await call(a1, 'AddOther', y.id, 'leaving');
        await call(a3, 'Join', 'leaving');
        let t = tag('leaving-1');
        await call(b2, 'ToGroup', 'leaving', t);
        await expectDeliveries(deliveries(t, x, y, a3));

        await disconnect(x);
        t = tag('leaving-2');
        await call(b2, 'ToGroup', 'leaving', t);
        await call(a1, 'ToOthersInGroup', 'leaving', t);
        await expectDeliveries(deliveries(t, y, a3, y, a3));

        // The last member on B leaves: B's group state is gone, A's member still receives.
        await disconnect(y);
        t = tag('leaving-3');
        await call(b2, 'ToGroup', 'leaving', t);
        await call(a1, 'ToGroupExcept', 'leaving', [x.id, y.id], t);
        await expectDeliveries(deliveries(t, a3, a3));
        const err = await rejection(a1.conn.invoke('AddOther', x.id, 'leaving'), 'AddOther(disconnected)');
        expect(err.message).toMatch(/SB_CONNECTION_NOT_FOUND/);

        // A new member on B joins the same group later: exactly one copy again.
        const z = await connect('z@B', 1, 'json');
        await call(a1, 'AddOther', z.id, 'leaving');
        t = tag('leaving-4');
        await call(a1, 'ToGroup', 'leaving', t);
        await expectDeliveries(deliveries(t, z, a3));
        await disconnect(z);
      });
    });

    it('negotiate on A, WebSocket on B: B accepts the token A issued (same HUB_SECRET)', async (ctx) => {
      if (!crossNode) return ctx.skip();
      const [a, b] = nodes.urls;
      const http = new NegotiateElsewhere(b, a);
      const conn = pool.track(
        new signalR.HubConnectionBuilder()
          .withUrl(`${hubUrl(1)}?user=erin`, { transport: signalR.HttpTransportType.WebSockets, httpClient: http })
          .configureLogging(signalR.LogLevel.None)
          .build(),
      );
      await within(conn.start(), WAIT_MS, 'erin: start');
      expect(http.negotiated).toEqual([`${a}${CONTRACT_HUB_PATH}/negotiate?user=erin&negotiateVersion=1`]);
      const who = await within(conn.invoke<WhoAmI>('WhoAmI'), WAIT_MS, 'erin: WhoAmI');
      expect(who).toEqual({ connectionId: conn.connectionId, user: 'erin', node: new URL(b).host, protocol: 'json' });
      const erin = attach('erin', 1, 'json', 'erin', conn, who);
      const { a1 } = P();
      const t = tag('erin');
      await call(a1, 'ToClient', erin.id, t);
      await call(a1, 'ToUser', 'erin', t);
      await expectDeliveries(deliveries(t, erin, erin));
      await disconnect(erin);
    });

    it('audit: over the whole suite, every connection received exactly what the checks expected (nothing late)', async () => {
      await delay(SETTLE_MS);
      const view = (list: (p: Peer) => readonly string[]) => Object.fromEntries(everyone.map((p) => [p.label, [...list(p)].sort()]));
      expect(view((p) => p.received)).toEqual(view((p) => ledger.get(p) ?? []));
    });

    it('no node logged an error', () => {
      expect(nodes.errorLines?.() ?? []).toEqual([]);
    });
  });
}
