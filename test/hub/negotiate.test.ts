import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientPool } from '../support/signalr.js';
import { negotiate, startHub, type HubFixture } from './fixture.js';

const URL_SAFE = /^[A-Za-z0-9_-]+$/;

describe('negotiate', () => {
  let hub: HubFixture;
  const clients = clientPool();

  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(async () => {
    await clients.stopAll();
    await hub?.close();
  });

  it('answers POST ?negotiateVersion=1 with the v1 shape: distinct URL-safe id and token, the three transports in order', async () => {
    const res = await fetch(`${hub.url}/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['availableTransports', 'connectionId', 'connectionToken', 'negotiateVersion']);
    expect(body['negotiateVersion']).toBe(1);
    expect(body['availableTransports']).toEqual([
      { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
      { transport: 'ServerSentEvents', transferFormats: ['Text'] },
      { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
    ]);
    const { connectionId, connectionToken } = body as { connectionId: string; connectionToken: string };
    expect(connectionId).toMatch(URL_SAFE);
    expect(connectionToken).toMatch(URL_SAFE);
    expect(connectionId).toHaveLength(22);
    expect(connectionToken).not.toBe(connectionId);
    expect(connectionToken).not.toContain(connectionId);
    expect('useStatefulReconnect' in body).toBe(false);
  });

  it('gives every negotiate a new connection id and token', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => negotiate(hub.url)));
    const ids = new Set(results.map((r) => r.body['connectionId']));
    const tokens = new Set(results.map((r) => r.body['connectionToken']));
    expect(ids.size).toBe(5);
    expect(tokens.size).toBe(5);
  });

  it('answers GET /negotiate with 405', async () => {
    const res = await fetch(`${hub.url}/negotiate?negotiateVersion=1`, { signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    await res.text();
  });

  it('answers a missing negotiateVersion with 200 and an error (no token issued)', async () => {
    const { status, body } = await negotiate(hub.url, '');
    expect(status).toBe(200);
    expect(typeof body['error']).toBe('string');
    expect(body['error']).toContain("version '0'");
    expect(body['connectionToken']).toBeUndefined();
    expect(body['connectionId']).toBeUndefined();
  });

  it('answers negotiateVersion=0 with an error and a non-integer version with 400', async () => {
    const zero = await negotiate(hub.url, 'negotiateVersion=0');
    expect(zero.status).toBe(200);
    expect(zero.body['connectionToken']).toBeUndefined();
    expect(typeof zero.body['error']).toBe('string');
    const res = await fetch(`${hub.url}/negotiate?negotiateVersion=one`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(400);
    await res.text();
  });

  it('clamps a newer negotiateVersion to 1', async () => {
    const { status, body } = await negotiate(hub.url, 'negotiateVersion=7');
    expect(status).toBe(200);
    expect(body['negotiateVersion']).toBe(1);
    expect(typeof body['connectionToken']).toBe('string');
  });

  it.each(['NegotiateVersion=1', 'NEGOTIATEVERSION=1', 'negotiateversion=1'])('reads query keys case-insensitively: %s', async (query) => {
    const { status, body } = await negotiate(hub.url, query);
    expect(status).toBe(200);
    expect(body['error']).toBeUndefined();
    expect(body['negotiateVersion']).toBe(1);
    expect(typeof body['connectionToken']).toBe('string');
  });

  it('routes hub paths case-insensitively and keeps other query parameters', async () => {
    const { status, body } = await negotiate(`${hub.origin}/HUB`, 'negotiateVersion=1&room=blue');
    expect(status).toBe(200);
    expect(body['negotiateVersion']).toBe(1);
  });

  it('answers 404 for a path that is no hub', async () => {
    const res = await fetch(`${hub.origin}/nohub/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(404);
    await res.text();
  });

  it('lets the official client connect; the hub sees the public connectionId the client got', async () => {
    const c = await clients.connect(hub.url);
    expect(c.connectionId).toMatch(URL_SAFE);
    expect(await c.invoke('ConnectionId')).toBe(c.connectionId);
    expect(await c.invoke('Echo', 'official')).toBe('official');
  });
});
