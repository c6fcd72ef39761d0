// TestHub invocations of the official client's functional tests (signalr-protocol.md 9.4, 9.5),
// run with the unmodified @microsoft/signalr Node client on every transport and hub protocol pair
// it can use (WebSockets, Server-Sent Events and long polling; MessagePack never goes over SSE).
import { describe, expect, it } from 'vitest';
import { conformanceFixture } from './fixture.js';
import { TRANSPORT_PROTOCOLS, nextCalls, signalR } from '../support/signalr.js';
import { within } from '../support/timing.js';

const SERVER_PREFIX = (target: string) => `An unexpected error occurred invoking '${target}' on the server.`;

const fixture = conformanceFixture();
const pool = fixture.pool;

describe.each(TRANSPORT_PROTOCOLS)('TestHub over %s (%s)', (transport, protocol) => {
  const hubUrl = () => `${fixture.app.url}/testhub`;
  const connect = (opts: Parameters<typeof pool.connect>[1] = {}) => pool.connect(hubUrl(), { transport, protocol, ...opts });

  it('connects with the requested protocol and a server-assigned connection id', async () => {
    const c = await connect();
    expect(c.state).toBe(signalR.HubConnectionState.Connected);
    expect(typeof c.connectionId).toBe('string');
    expect(c.connectionId!.length).toBeGreaterThan(0);
    expect((c as unknown as { _protocol: { name: string } })._protocol.name).toBe(protocol);
  });

  it('Echo returns its argument, unicode included', async () => {
    const c = await connect();
    expect(await within(c.invoke('Echo', 'hello world'))).toBe('hello world');
    const unicode = '\u0441\u043F\u0430\u0441\u0438\u0431\u043E \u2603 \uD83D\uDE00 na\u00EFve \u4F60\u597D';
    expect(await within(c.invoke('Echo', unicode))).toBe(unicode);
    expect(await within(c.invoke('Echo', ''))).toBe('');
  });

  it('InvokeWithString calls the client method Message, matched case-insensitively', async () => {
    const c = await connect();
    const calls = nextCalls(c, 'mEssAge', 1, 4000);
    await within(c.invoke('InvokeWithString', 'a message'));
    expect(await calls).toEqual([['a message']]);
  });

  it('SendCustomObject sends CustomObject with the object back to the caller', async () => {
    const c = await connect();
    const calls = nextCalls(c, 'CustomObject', 1, 4000);
    await within(c.invoke('SendCustomObject', { Name: 'test', Value: 42 }));
    const [[obj]] = (await calls) as [[{ Name: string; Value: number }]];
    expect(obj.Name).toBe('test');
    expect(obj.Value).toBe(42);
  });

  it('ThrowException rejects with the exact detailed error text', async () => {
    const c = await connect();
    await expect(within(c.invoke('ThrowException', 'An error occurred.'))).rejects.toThrow(
      new Error(`${SERVER_PREFIX('ThrowException')} InvalidOperationException: An error occurred.`),
    );
    // The connection survives a failed invocation.
    expect(await within(c.invoke('Echo', 'still here'))).toBe('still here');
  });

  it('an unknown method rejects with the exact "Method does not exist." text', async () => {
    const c = await connect();
    await expect(within(c.invoke('NotARealMethod', 1))).rejects.toThrow(
      new Error(`Failed to invoke 'NotARealMethod' due to an error on the server. HubException: Method does not exist.`),
    );
    await expect(within(c.invoke('X'))).rejects.toThrow(new Error(`Failed to invoke 'X' due to an error on the server. HubException: Method does not exist.`));
  });

  it('hub method names are matched case-insensitively', async () => {
    const c = await connect();
    expect(await within(c.invoke('echo', 'lower'))).toBe('lower');
    expect(await within(c.invoke('ECHO', 'upper'))).toBe('upper');
    const calls = nextCalls(c, 'Message', 1, 4000);
    await within(c.invoke('invokeWithString', 'camel'));
    expect(await calls).toEqual([['camel']]);
  });

  it('the hub route is matched case-insensitively (/TestHub)', async () => {
    const c = await pool.connect(`${fixture.app.url}/TestHub`, { transport, protocol });
    expect(await within(c.invoke('Echo', 'route'))).toBe('route');
  });

  it('EchoComplexObject round-trips bytes, dates, guid, ints and strings', async () => {
    const c = await connect();
    const obj =
      protocol === 'json'
        ? { ByteArray: 'aGVsbG8=', DateTime: '2002-04-01T10:20:15Z', GUID: '00010203-0405-0607-0706-050403020100', IntArray: [1, 2, 3, 255], String: 'hello world' }
        : {
            ByteArray: new Uint8Array([0x68, 0x65, 0x6c, 0x6c, 0x6f]),
            DateTime: new Date(Date.UTC(2002, 3, 1, 10, 20, 15)),
            GUID: '00010203-0405-0607-0706-050403020100',
            IntArray: [1, 2, 3, 255],
            String: 'hello world',
          };
    const back = (await within(c.invoke('EchoComplexObject', obj))) as Record<string, unknown>;
    expect(back).toEqual(obj);
    if (protocol === 'messagepack') {
      expect(back['ByteArray']).toBeInstanceOf(Uint8Array);
      expect(back['DateTime']).toBeInstanceOf(Date);
    }
  });

  it('SendComplexObject returns the server-built object with the protocol type rules', async () => {
    const c = await connect();
    const value = (await within(c.invoke('SendComplexObject'))) as Record<string, unknown>;
    expect(value['Guid']).toBe('00010203-0405-0607-0706-050403020100');
    expect(value['IntArray']).toEqual([1, 2, 3]);
    expect(value['String']).toBe('hello world');
    if (protocol === 'json') {
      expect(value['ByteArray']).toBe('AQID');
      expect(value['DateTime']).toBe('2000-01-01T00:00:00Z');
    } else {
      expect(value['ByteArray']).toBeInstanceOf(Uint8Array);
      expect(Array.from(value['ByteArray'] as Uint8Array)).toEqual([1, 2, 3]);
      expect(value['DateTime']).toBeInstanceOf(Date);
      expect((value['DateTime'] as Date).getTime()).toBe(Date.UTC(2000, 0, 1));
    }
  });

  it("GetCallerConnectionId equals the client's connectionId", async () => {
    const c = await connect();
    const other = await connect();
    expect(await within(c.invoke('GetCallerConnectionId'))).toBe(c.connectionId);
    expect(await within(other.invoke('GetCallerConnectionId'))).toBe(other.connectionId);
    expect(c.connectionId).not.toBe(other.connectionId);
  });

  it(`GetActiveTransportName is '${transport}'`, async () => {
    const c = await connect();
    expect(await within(c.invoke('GetActiveTransportName'))).toBe(transport);
  });

  it("the client's User-Agent reaches the hub", async () => {
    const c = await connect();
    const ua = await within(c.invoke('GetHeader', 'User-Agent'));
    expect(typeof ua).toBe('string');
    expect(ua as string).toMatch(/^Microsoft SignalR\//);
    expect(await within(c.invoke('GetHeader', 'X-Not-Sent'))).toBeNull();
  });

  it('user headers reach the hub and a custom User-Agent overrides the default', async () => {
    const c = await connect({ headers: { 'X-HEADER': 'VALUE', 'User-Agent': 'Custom Agent' } });
    expect(await within(c.invoke('GetHeader', 'X-HEADER'))).toBe('VALUE');
    expect(await within(c.invoke('GetHeader', 'x-header'))).toBe('VALUE');
    expect(await within(c.invoke('GetHeader', 'User-Agent'))).toBe('Custom Agent');
  });

  it('cookies set by negotiate are replayed on the transport request; the expired one is not', async () => {
    const c = await connect();
    expect(await within(c.invoke('GetCookie', 'testCookie'))).toBe('testValue');
    expect(await within(c.invoke('GetCookie', 'testCookie2'))).toBe('testValue2');
    expect(await within(c.invoke('GetCookie', 'expiredCookie'))).toBeNull();
  });

  it('GetNumRedirects is 0 without a numRedirects query and reads it when present', async () => {
    const c = await connect();
    expect(await within(c.invoke('GetNumRedirects'))).toBe(0);
    const d = await pool.connect(`${fixture.app.url}/testhub?numRedirects=7`, { transport, protocol });
    expect(await within(d.invoke('GetNumRedirects'))).toBe(7);
  });
});
