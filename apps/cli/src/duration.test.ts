import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['1500', 1500],
    ['250ms', 250],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 3s ', 3000],
    ['0.0004s', 0],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 's', '-5s', '5 s', '5sec', '1e3', '5S', '1.s', '.5s', 'five'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [-5, '0ms'],
    [850, '850ms'],
    [1000, '1s'],
    [12_400, '12s'],
    [59_600, '1m 00s'],
    [185_000, '3m 05s'],
    [2 * 3_600_000 + 10 * 60_000, '2h 10m'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d 4h'],
  ])('%d ms is %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
