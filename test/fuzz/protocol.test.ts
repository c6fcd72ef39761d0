// Fuzzes the pure protocol code (libs/protocol): frame readers, JSON and MessagePack parsing, the
// handshake. Every input must either parse (and what parses must write back in both protocols, as
// the server does when it echoes or broadcasts) or fail with a SwitchboardError of the expected
// registry codes. Anything else (another exception, a hang, unbounded buffering) is a finding.
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  SwitchboardError,
  jsonHubProtocol,
  messagePackHubProtocol,
  parseHandshake,
  selectProtocol,
  type ErrorCode,
  type HubProtocol,
} from '@switchboard/protocol';
import { FUZZ_SEED, Findings, casesFor, timeoutFor } from './budget.js';
import { HANDSHAKE_CORPUS, JSON_CORPUS, MSGPACK_CORPUS } from './corpus.js';
import { chunks, deepInvocation, mutate } from './mutate.js';
import { Prng } from './prng.js';

const MAX_MESSAGE_SIZE = 32 * 1024;
const PROTOCOLS = [jsonHubProtocol, messagePackHubProtocol];

/** Describes an unexpected failure, or undefined when `err` is a SwitchboardError with one of `codes`. */
function unexpected(err: unknown, codes: readonly ErrorCode[]): string | undefined {
  if (!(err instanceof SwitchboardError)) return `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  if (!(err.code in ERROR_CODES)) return `unregistered code ${err.code}`;
  if (!codes.includes(err.code)) return `${err.code} where ${codes.join(' or ')} was expected: ${err.message}`;
  return undefined;
}

/** Feeds a unit in chunks to a fresh reader and parses every body; returns a problem or undefined. */
function runParserCase(protocol: HubProtocol, rng: Prng, input: Uint8Array, parseCodes: readonly ErrorCode[]): string | undefined {
  const reader = protocol.createReader(MAX_MESSAGE_SIZE);
  for (const chunk of chunks(rng, input)) {
    let bodies: Uint8Array[];
    try {
      bodies = reader.push(chunk);
    } catch (err) {
      return unexpected(err, ['SB_PROTOCOL_MESSAGE_TOO_LARGE', 'SB_PROTOCOL_INVALID_VARINT']);
    }
    if (reader.bufferedBytes > MAX_MESSAGE_SIZE + 8) return `the reader buffers ${reader.bufferedBytes} bytes, over the message size limit`;
    for (const body of bodies) {
      let message;
      try {
        message = protocol.parse(body);
      } catch (err) {
        const problem = unexpected(err, parseCodes);
        if (problem) return problem;
        // A connection closes at its first bad message: the rest of the unit is never read.
        return undefined;
      }
      // What the server accepts it may write back, in every protocol (echo, broadcast over the backplane).
      for (const out of PROTOCOLS) {
        try {
          const bytes = out.write(message);
          if (!(bytes instanceof Uint8Array) || !bytes.length) return `${out.name} wrote nothing for ${JSON.stringify(message).slice(0, 200)}`;
        } catch (err) {
          return `${out.name}.write threw on an accepted message: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
        }
      }
    }
  }
  return undefined;
}

/** Builds a case input: one to three corpus items, mutated (or, now and then, left valid, or deeply nested). */
function caseInput(rng: Prng, corpus: readonly Uint8Array[], protocol: 'json' | 'messagepack'): { bytes: Uint8Array; steps: readonly string[] } {
  if (rng.chance(0.03)) return { bytes: deepInvocation(rng, protocol), steps: ['deepInvocation'] };
  const parts = Array.from({ length: rng.range(1, 3) }, () => rng.pick(corpus));
  const joined = Buffer.concat(parts);
  if (rng.chance(0.05)) return { bytes: joined, steps: ['valid'] };
  return mutate(rng, joined, corpus);
}

function fuzzParser(name: string, protocol: HubProtocol, corpus: readonly Uint8Array[], parseCodes: readonly ErrorCode[]): Findings {
  const findings = new Findings();
  const cases = casesFor(1);
  for (let i = 0; i < cases; i++) {
    const rng = Prng.forCase(FUZZ_SEED, i);
    const { bytes, steps } = caseInput(rng, corpus, protocol.name === 'json' ? 'json' : 'messagepack');
    const problem = runParserCase(protocol, rng, bytes, parseCodes);
    if (problem) findings.add(name, i, steps, bytes, problem);
  }
  return findings;
}

describe(`protocol fuzzing (seed ${FUZZ_SEED}, ${casesFor(1)} cases per target)`, () => {
  it(
    'JSON: frame reader + parse + write back',
    () => {
      const findings = fuzzParser('json', jsonHubProtocol, JSON_CORPUS, ['SB_PROTOCOL_INVALID_JSON', 'SB_PROTOCOL_INVALID_MESSAGE']);
      expect(findings.list, findings.report()).toEqual([]);
    },
    timeoutFor(casesFor(1), 2),
  );

  it(
    'MessagePack: frame reader + parse + write back',
    () => {
      const findings = fuzzParser('messagepack', messagePackHubProtocol, MSGPACK_CORPUS, ['SB_PROTOCOL_INVALID_MSGPACK', 'SB_PROTOCOL_INVALID_MESSAGE']);
      expect(findings.list, findings.report()).toEqual([]);
    },
    timeoutFor(casesFor(1), 2),
  );

  it(
    'handshake: parse + protocol selection',
    () => {
      const findings = new Findings();
      const cases = casesFor(1);
      for (let i = 0; i < cases; i++) {
        const rng = Prng.forCase(FUZZ_SEED, i);
        const { bytes, steps } = mutate(rng, rng.pick(HANDSHAKE_CORPUS), HANDSHAKE_CORPUS);
        try {
          const parsed = parseHandshake(bytes);
          if (parsed.done) {
            const selection = selectProtocol(parsed.request, PROTOCOLS, [rng.pick(['Text', 'Binary'] as const)]);
            if (!selection.ok && !(selection.code in ERROR_CODES)) findings.add('handshake', i, steps, bytes, `unregistered code ${selection.code}`);
            if (!selection.ok && typeof selection.error !== 'string') findings.add('handshake', i, steps, bytes, 'no error text');
          }
        } catch (err) {
          const problem = unexpected(err, ['SB_HANDSHAKE_INVALID']);
          if (problem) findings.add('handshake', i, steps, bytes, problem);
        }
      }
      expect(findings.list, findings.report()).toEqual([]);
    },
    timeoutFor(casesFor(1), 1),
  );

  it('random bytes through both readers and parsers', () => {
    const findings = new Findings();
    const cases = casesFor(0.5);
    for (let i = 0; i < cases; i++) {
      const rng = Prng.forCase(FUZZ_SEED ^ 0xbeef, i);
      const bytes = rng.bytes(rng.range(0, 300));
      const json = runParserCase(jsonHubProtocol, rng, bytes, ['SB_PROTOCOL_INVALID_JSON', 'SB_PROTOCOL_INVALID_MESSAGE']);
      if (json) findings.add('json-random', i, ['random'], bytes, json);
      const msgpack = runParserCase(messagePackHubProtocol, rng, bytes, ['SB_PROTOCOL_INVALID_MSGPACK', 'SB_PROTOCOL_INVALID_MESSAGE']);
      if (msgpack) findings.add('messagepack-random', i, ['random'], bytes, msgpack);
    }
    expect(findings.list, findings.report()).toEqual([]);
  });
});
