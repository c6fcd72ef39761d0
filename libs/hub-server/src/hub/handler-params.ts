/**
 * How many parameters a hub method handler declares, read from its source text
 * (`Function.prototype.toString`, which returns the exact source of every function written in JS).
 *
 * Why not `handler.length`: it stops counting at the first parameter with a default value and
 * never counts a rest parameter, so `(ctx, a, b = 1)` has length 2 and `(ctx, ...xs)` length 1;
 * refusing arguments beyond `length` would break such handlers. The source says both.
 *
 * The answer is `undefined` (the count is not enforced) whenever it cannot be read for sure:
 * native or bound functions, handlers whose source uses `arguments` (plain JS, or TypeScript
 * compiled to ES5, where a rest parameter becomes an `arguments` loop), or a parameter list this
 * scanner does not understand. It never guesses low: a count below `handler.length` is discarded.
 */
export interface DeclaredParameters {
  /** Parameters in the list, the context included, defaulted ones included, the rest parameter included. */
  readonly count: number;
  /** The last parameter is a rest parameter (`...args`): any number of arguments fits. */
  readonly rest: boolean;
}

const IDENTIFIER = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/;

/** The declared parameters of `fn`, or undefined when they cannot be read for sure (see above). */
export function declaredParameters(fn: (...args: never[]) => unknown): DeclaredParameters | undefined {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return undefined;
  }
  if (src.includes('[native code]') || /\barguments\b/.test(src)) return undefined;
  // `x => ...` and `async x => ...`: one parameter, no parentheses.
  if (IDENTIFIER.test(src) && !/^async\s*\(/.test(src) && !/^async\s+function\b/.test(src)) {
    return fn.length === 1 ? { count: 1, rest: false } : undefined;
  }
  const open = parameterListStart(src);
  if (open < 0) return undefined;
  const parsed = scanParameterList(src, open);
  if (!parsed || parsed.count < fn.length) return undefined;
  return parsed;
}

/** Index of the `(` that opens the parameter list: the first one outside strings and a computed method name. */
function parameterListStart(src: string): number {
  let brackets = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(src, i);
      if (i < 0) return -1;
    } else if (c === '[') brackets++;
    else if (c === ']') brackets--;
    else if (c === '(' && brackets === 0) return i;
    else if (c === '{' || c === '=') return -1; // a body or an arrow before any parameter list: not a form we know
  }
  return -1;
}

/** Index of the closing quote of the string or template literal opening at `start`; -1 when unterminated. */
function skipString(src: string, start: number): number {
  const quote = src[start];
  for (let i = start + 1; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === quote) return i;
    // A template substitution could hold anything (nested templates): give up rather than guess.
    else if (quote === '`' && src[i] === '$' && src[i + 1] === '{') return -1;
  }
  return -1;
}

/**
 * Counts the top-level entries of the parameter list whose `(` is at `open`: commas at depth 1
 * separate them (default values and destructuring patterns nest deeper), `...` at depth 1 marks
 * the rest parameter, and an entry with nothing in it (a trailing comma) is not a parameter.
 */
function scanParameterList(src: string, open: number): DeclaredParameters | undefined {
  let depth = 0;
  let count = 0;
  let entryHasContent = false;
  let rest = false;
  for (let i = open; i < src.length; i++) {
    const c = src[i]!;
    if (c === '/' && src[i + 1] === '/') {
      i = src.indexOf('\n', i);
      if (i < 0) return undefined;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      i = src.indexOf('*/', i + 2) + 1;
      if (i <= 0) return undefined;
      continue;
    }
    // A regular expression literal in a default value cannot be told from a division here.
    if (c === '/') return undefined;
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(src, i);
      if (i < 0) return undefined;
      if (depth === 1) entryHasContent = true;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      depth++;
      if (depth > 1) entryHasContent = true;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return { count: count + (entryHasContent ? 1 : 0), rest };
      continue;
    }
    if (depth !== 1) continue;
    if (c === ',') {
      if (!entryHasContent) return undefined; // `(a,,b)` is not a parameter list
      count++;
      entryHasContent = false;
    } else if (c === '.' && src.startsWith('...', i) && !entryHasContent) {
      rest = true;
      entryHasContent = true;
      i += 2;
    } else if (!/\s/.test(c)) entryHasContent = true;
  }
  return undefined;
}

/**
 * The most plain arguments an invocation of `handler` may carry, or undefined for any number: its
 * declared parameters minus the context (the first) and the `uploads` streams (the last ones).
 * Fewer arguments are always allowed: TypeScript's optional parameters (`x?: T`) look like any
 * other parameter at run time.
 */
export function maxPlainArguments(handler: (...args: never[]) => unknown, uploads: number): number | undefined {
  const declared = declaredParameters(handler);
  if (!declared || declared.rest) return undefined;
  return Math.max(0, declared.count - 1 - uploads);
}
