import { describe, expect, it } from 'vitest';
import { HttpTransportType } from '@microsoft/signalr';
import { hubUrl, reconnectDelay, validateOptions } from './options.js';
import { hubErrorCode, hubErrorMessage } from './errors.js';

describe('options', () => {
  it.each([
    [{ reconnectDelays: [] }, /reconnectDelays must be a non-empty array/],
    [{ reconnectDelays: [0, -1] }, /reconnectDelays must hold finite numbers >= 0; got -1/],
    [{ reconnectDelays: [0, Infinity] }, /reconnectDelays must hold finite numbers >= 0; got Infinity/],
    [{ accessTokenFactory: 'token' }, /accessTokenFactory must be a function/],
    [{ skipNegotiation: true }, /skipNegotiation needs transport: HttpTransportType.WebSockets/],
    [{ skipNegotiation: true, transport: HttpTransportType.LongPolling }, /skipNegotiation needs transport/],
    [{ path: 'hubs/jobs' }, /path must start with '\/'/],
  ])('refuses %j', (options, message) => {
    expect(() => validateOptions(options as never)).toThrow(message);
  });

  it('accepts the documented forms', () => {
    expect(() => validateOptions({})).not.toThrow();
    expect(() => validateOptions({ reconnectDelays: false, persistent: true })).not.toThrow();
    expect(() => validateOptions({ skipNegotiation: true, transport: HttpTransportType.WebSockets, path: '/x', accessTokenFactory: () => 't' })).not.toThrow();
  });

  it('reconnectDelay repeats the last delay and adds at most 20% jitter to non-zero delays', () => {
    const delays = [0, 1000, 5000];
    expect(reconnectDelay(delays, 0, () => 0.99)).toBe(0);
    expect(reconnectDelay(delays, 1, () => 0)).toBe(1000);
    expect(reconnectDelay(delays, 1, () => 1)).toBe(1200);
    expect(reconnectDelay(delays, 2, () => 0)).toBe(5000);
    expect(reconnectDelay(delays, 50, () => 0.5)).toBe(5500);
  });

  it('hubUrl joins a base (empty for the page origin) and a path', () => {
    expect(hubUrl('', '/hubs/jobs')).toBe('/hubs/jobs');
    expect(hubUrl('http://h:1/', '/hubs/jobs')).toBe('http://h:1/hubs/jobs');
    expect(hubUrl('http://h:1/app//', '/hubs/chat')).toBe('http://h:1/app/hubs/chat');
  });

  it('hubErrorMessage keeps what the hub said; hubErrorCode reads its SB_ code', () => {
    const err = new Error("An unexpected error occurred invoking 'enqueue' on the server. HubException: SB_JOB_INVALID_DATA: Invalid data for job 'hash': rounds: too big.");
    expect(hubErrorMessage(err)).toBe("SB_JOB_INVALID_DATA: Invalid data for job 'hash': rounds: too big.");
    expect(hubErrorCode(err)).toBe('SB_JOB_INVALID_DATA');
    expect(hubErrorMessage(new Error('Failed to fetch'))).toBe('Failed to fetch');
    expect(hubErrorCode('plain')).toBeUndefined();
  });
});
