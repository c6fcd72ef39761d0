import { describe, expect, it } from 'vitest';
import { WatchedStore, type KeyValueStorage } from './watched-store.js';

function memory(initial?: string): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>(initial === undefined ? [] : [['switchboard.watchedJobs', initial]]);
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('WatchedStore (job ids remembered across reloads)', () => {
  it('keeps ids newest first, without duplicates, and persists them', () => {
    const storage = memory();
    const s = new WatchedStore(storage);
    s.add('a');
    s.add('b');
    s.add('a');
    expect(s.ids()).toEqual(['a', 'b']);
    expect(new WatchedStore(storage).ids()).toEqual(['a', 'b']);
    s.remove('a');
    expect(new WatchedStore(storage).ids()).toEqual(['b']);
  });

  it('holds at most `max` ids, dropping the oldest', () => {
    const s = new WatchedStore(memory(), 3);
    for (const id of ['1', '2', '3', '4']) s.add(id);
    expect(s.ids()).toEqual(['4', '3', '2']);
  });

  it('ignores corrupt or foreign stored values', () => {
    expect(new WatchedStore(memory('not json')).ids()).toEqual([]);
    expect(new WatchedStore(memory('{"a":1}')).ids()).toEqual([]);
    expect(new WatchedStore(memory('["ok", 3, "", null]')).ids()).toEqual(['ok']);
  });

  it('works in memory when storage throws (private mode, quota) or is missing', () => {
    const throwing: KeyValueStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    const s = new WatchedStore(throwing);
    s.add('x');
    expect(s.ids()).toEqual(['x']);
    const none = new WatchedStore(undefined);
    none.add('y');
    expect(none.ids()).toEqual(['y']);
  });
});
