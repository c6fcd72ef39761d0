import { describe, expect, it } from 'vitest';
import { declaredParameters, maxPlainArguments } from './handler-params.js';
import { compileMethods, method, streamMethod, uploadMethod } from './hub.js';

// Handlers are written as plain JS functions here: what TypeScript emits for hub methods.
/* eslint-disable @typescript-eslint/no-unused-vars */
type Fn = (...args: never[]) => unknown;
const f = (fn: unknown) => fn as Fn;

describe('declaredParameters: every parameter, defaults and rest included', () => {
  it.each([
    ['arrow', f((ctx: unknown, a: unknown) => a), { count: 2, rest: false }],
    ['arrow without parentheses', f((ctx: unknown) => ctx), { count: 1, rest: false }],
    ['no parameters', f(() => 1), { count: 0, rest: false }],
    ['async arrow', f(async (ctx: unknown, a: unknown, b: unknown) => b), { count: 3, rest: false }],
    ['function expression', f(function named(ctx: unknown, a: unknown) {}), { count: 2, rest: false }],
    ['async generator', f(async function* (ctx: unknown, n: number) {}), { count: 2, rest: false }],
    ['defaults (length stops at the first)', f((ctx: unknown, a: unknown, b = 1, c = [1, 2], d = { e: (x: number, y: number) => x + y }) => a), { count: 5, rest: false }],
    ['a default holding a string with a comma and a paren', f((ctx: unknown, a = ',)(', b = "'") => a), { count: 3, rest: false }],
    ['a template literal default without substitutions', f((ctx: unknown, a = `x,y`) => a), { count: 2, rest: false }],
    ['destructured parameters', f((ctx: unknown, { a, b }: { a: 1; b: 2 }, [c, d]: number[]) => a), { count: 3, rest: false }],
    ['a trailing comma', f(new Function('ctx, a,', 'return a')), { count: 2, rest: false }],
    ['rest', f((ctx: unknown, ...xs: unknown[]) => xs), { count: 2, rest: true }],
    ['comments', f(new Function('ctx /* the context, (really) */', 'a // one\n', 'return a')), { count: 2, rest: false }],
  ])('%s', (_what, fn, expected) => {
    expect(declaredParameters(fn)).toEqual(expected);
  });

  it('object and class methods, including async and generator ones and quoted or computed names', () => {
    const o = {
      Send(ctx: unknown, a: unknown) {},
      async Join(ctx: unknown, room: string, extra = 0) {},
      async *Counter(ctx: unknown, n: number) {},
      'quoted (name)'(ctx: unknown) {},
      [`computed`](ctx: unknown, a: unknown, b: unknown) {},
    };
    expect([o.Send, o.Join, o.Counter, o['quoted (name)'], o.computed].map((m) => declaredParameters(f(m))?.count)).toEqual([2, 3, 2, 1, 3]);
    class Hub {
      static Method(ctx: unknown, a: unknown) {}
    }
    expect(declaredParameters(f(Hub.Method))).toEqual({ count: 2, rest: false });
  });

  it('is undefined (not enforced) when it cannot be sure: native, bound, `arguments`, regex or template substitutions in defaults', () => {
    expect(declaredParameters(f(Math.max))).toBeUndefined();
    expect(declaredParameters(f(((ctx: unknown, a: unknown) => a).bind(null)))).toBeUndefined();
    expect(declaredParameters(f(new Function('ctx', 'return arguments[1]')))).toBeUndefined();
    expect(declaredParameters(f(new Function('ctx', 'a = /[,)]/', 'return a')))).toBeUndefined();
    expect(declaredParameters(f(new Function('ctx', 'a = `${1}`', 'return a')))).toBeUndefined();
    expect(declaredParameters(f(new Proxy(() => 1, {})))).toBeUndefined();
  });
});

describe('maxPlainArguments and compileMethods: the count the dispatcher enforces', () => {
  it('declared parameters minus the context and the upload streams; none for rest parameters', () => {
    expect(maxPlainArguments(f((ctx: unknown, a: unknown) => a), 0)).toBe(1);
    expect(maxPlainArguments(f((ctx: unknown, a: unknown, b = 2) => a), 0)).toBe(2);
    expect(maxPlainArguments(f(() => 1), 0)).toBe(0);
    expect(maxPlainArguments(f((ctx: unknown, a: unknown, s: unknown) => a), 1)).toBe(1);
    expect(maxPlainArguments(f((ctx: unknown, s: unknown) => s), 2)).toBe(0);
    expect(maxPlainArguments(f((ctx: unknown, ...xs: unknown[]) => xs), 0)).toBeUndefined();
  });

  it('compileMethods sets maxArgs for plain functions and helpers, never beside an explicit args', () => {
    const compiled = compileMethods({
      Echo: (_ctx, m: unknown) => m,
      Stream: async function* (_ctx, n: number) {},
      Upload: uploadMethod(1, async (_ctx, label: string, s: AsyncIterable<string>) => label),
      Marked: streamMethod((_ctx) => (async function* () {})()),
      Exact: method((_ctx, a: unknown) => a, { args: 3 }),
      Any: (_ctx, ...xs: unknown[]) => xs,
    });
    const pick = (name: string) => {
      const m = compiled.get(name)!;
      return { args: m.args, maxArgs: m.maxArgs };
    };
    expect(['echo', 'stream', 'upload', 'marked', 'exact', 'any'].map(pick)).toEqual([
      { args: undefined, maxArgs: 1 },
      { args: undefined, maxArgs: 1 },
      { args: undefined, maxArgs: 1 },
      { args: undefined, maxArgs: 0 },
      { args: 3, maxArgs: undefined },
      { args: undefined, maxArgs: undefined },
    ]);
  });
});
