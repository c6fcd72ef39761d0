/**
 * `obj` without the keys whose value is undefined (a new plain object; the order of the others is
 * kept). For objects whose keys are looked at, not only read: sent on the wire (MessagePack writes
 * an undefined value as nil, which a reader takes for a value), handed to BullMQ, checked with
 * `in`, or given to callers as a definition. Elsewhere a plain `x: value` does (undefined reads
 * as absent; `exactOptionalPropertyTypes` is off).
 */
export function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, value]) => value !== undefined)) as T;
}
