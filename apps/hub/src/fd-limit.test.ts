import { describe, expect, it } from 'vitest';
import { capForLimit, connectionCap, parseOpenFilesLimit, readOpenFilesLimit } from './fd-limit.js';

// /proc/self/limits as Linux writes it (columns padded with spaces).
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max processes             96367                96367                processes 
Max open files            1024                 524288               files     
Max locked memory         8388608              8388608              bytes     
Max msgqueue size         819200               819200               bytes     
`;

describe('the open files limit', () => {
  it('parses the "Max open files" row of /proc/self/limits', () => {
    expect(parseOpenFilesLimit(LIMITS)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseOpenFilesLimit('Max open files            unlimited            unlimited            files\n')).toEqual({ soft: undefined, hard: undefined });
    expect(parseOpenFilesLimit('Max open files 300 20000')).toEqual({ soft: 300, hard: 20000 });
    expect(parseOpenFilesLimit(LIMITS.replace('Max open files', 'Max open filez'))).toBeUndefined();
    expect(parseOpenFilesLimit('')).toBeUndefined();
  });

  it('is read on Linux only; unreadable means unknown', () => {
    expect(readOpenFilesLimit('linux', () => LIMITS)).toEqual({ soft: 1024, hard: 524288 });
    expect(readOpenFilesLimit('darwin', () => LIMITS)).toBeUndefined();
    expect(
      readOpenFilesLimit('linux', () => {
        throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
      }),
    ).toBeUndefined();
    if (process.platform === 'linux') expect(readOpenFilesLimit()?.soft).toBeGreaterThan(0);
  });

  it('leaves 256 descriptors out of the cap, or half of a smaller limit', () => {
    expect(capForLimit(20_000)).toBe(19_744);
    expect(capForLimit(1024)).toBe(768);
    expect(capForLimit(512)).toBe(256);
    expect(capForLimit(300)).toBe(150);
    expect(capForLimit(1)).toBe(1);
  });
});

describe('the connection cap', () => {
  const unset = { maxConnections: undefined, maxConnectionsSet: false };
  const limit = { soft: 1024, hard: 524288 };

  it('MAX_CONNECTIONS unset: the limit minus the reserve, said at info', () => {
    const cap = connectionCap(unset, limit);
    expect(cap.maxConnections).toBe(768);
    expect(cap.log).toMatchObject({ level: 'info', fields: { maxConnections: 768, openFilesLimit: 1024, hardLimit: 524288, reserve: 256 } });
    expect(cap.log!.msg).toMatch(/^MAX_CONNECTIONS is not set: holding at most 768 connections, the open files limit \(ulimit -n, 1024\) minus 256 descriptors/);
  });

  it('MAX_CONNECTIONS at or below the cap: as set, nothing said', () => {
    expect(connectionCap({ maxConnections: 768, maxConnectionsSet: true }, limit)).toEqual({ maxConnections: 768 });
    expect(connectionCap({ maxConnections: 100, maxConnectionsSet: true }, limit)).toEqual({ maxConnections: 100 });
  });

  it('MAX_CONNECTIONS above the cap: kept, with a warning that says what to do', () => {
    const cap = connectionCap({ maxConnections: 5000, maxConnectionsSet: true }, limit);
    expect(cap.maxConnections).toBe(5000);
    expect(cap.log).toMatchObject({ level: 'warn', fields: { maxConnections: 5000, suggestedMaxConnections: 768, openFilesLimit: 1024 } });
    expect(cap.log!.msg).toContain('will run out of file descriptors first');
    expect(cap.log!.msg).toContain('Raise ulimit -n to at least 5256, or lower MAX_CONNECTIONS to 768 or less');
    // Past the hard limit, raising the soft one is not enough.
    expect(connectionCap({ maxConnections: 30_000, maxConnectionsSet: true }, { soft: 20_000, hard: 20_000 }).log!.msg).toContain('above the hard limit 20000');
  });

  it('MAX_CONNECTIONS=0 (no limit) with a known limit: no limit, with a warning', () => {
    const cap = connectionCap({ maxConnections: undefined, maxConnectionsSet: true }, limit);
    expect(cap.maxConnections).toBeUndefined();
    expect(cap.log).toMatchObject({ level: 'warn', fields: { maxConnections: 0, suggestedMaxConnections: 768 } });
    expect(cap.log!.msg).toMatch(/^MAX_CONNECTIONS=0 \(no limit\), but the open files limit \(ulimit -n\) is 1024/);
  });

  it('no known limit (not Linux, unreadable, unlimited): as today, MAX_CONNECTIONS or no limit', () => {
    expect(connectionCap(unset, undefined)).toEqual({ maxConnections: undefined });
    expect(connectionCap(unset, { soft: undefined, hard: undefined })).toEqual({ maxConnections: undefined });
    expect(connectionCap({ maxConnections: 50_000, maxConnectionsSet: true }, undefined)).toEqual({ maxConnections: 50_000 });
  });
});
