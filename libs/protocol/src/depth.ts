/**
 * Nesting limits for hub messages. Parsing itself is iterative (V8's JSON.parse and
 * @msgpack/msgpack 3 keep their own stacks), but everything after it that walks a value
 * (JSON.stringify when a hub echoes or broadcasts an argument, the MessagePack encoder, app code)
 * recurses: a 32 KB message of `[[[[...` (16,000 levels in JSON, 32,000 in MessagePack) would
 * overflow the stack there. So messages nested deeper than these limits are refused at parse time.
 */

/** Deepest nesting of arrays and objects in a JSON hub message (the message object is level 1): System.Text.Json's default MaxDepth, which ASP.NET applies too. */
export const MAX_JSON_DEPTH = 64;

/**
 * Deepest value in a MessagePack hub message, counted as @msgpack/msgpack's encoder counts (the
 * message array is at depth 1, each element one deeper, scalars included): that encoder's default
 * `maxDepth`, so the official client (which uses it) can send nothing deeper, and anything
 * accepted can be written back by ours.
 */
export const MAX_MSGPACK_DEPTH = 100;

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether UTF-8 JSON text nests arrays and objects more than `max` levels deep. Brackets inside
 * strings do not count. Text with at most `max` opening brackets is answered by two native
 * `indexOf` scans, so ordinary messages pay almost nothing. On invalid JSON the answer is
 * meaningless but harmless: JSON.parse refuses that text anyway.
 */
export function jsonDepthExceeds(text: Uint8Array, max: number): boolean {
  if (text.length <= max) return false;
  let opens = 0;
  for (const bracket of [OPEN_ARRAY, OPEN_OBJECT]) {
    for (let i = text.indexOf(bracket); i >= 0 && opens <= max; i = text.indexOf(bracket, i + 1)) opens++;
  }
  if (opens <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/**
 * Whether a decoded value holds anything deeper than `max`, counting as @msgpack/msgpack's encoder
 * does: the value is at depth 1 and every element of an array or object (map) one deeper than
 * its container, scalars included. Iterative, so it is safe on any depth. Byte arrays, dates and
 * other views count as scalars.
 */
export function valueDepthExceeds(value: unknown, max: number): boolean {
  if (max < 1) return true;
  const containers: object[] = [];
  const depths: number[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !(v instanceof Date)) {
      containers.push(v);
      depths.push(depth);
    }
  };
  visit(value, 1);
  while (containers.length) {
    const container = containers.pop()!;
    const depth = depths.pop()!;
    const children = Array.isArray(container) ? container : Object.values(container);
    if (children.length && depth + 1 > max) return true;
    for (const child of children) visit(child, depth + 1);
  }
  return false;
}
