/**
 * Wire compatibility with the official client's own protocol code (@microsoft/signalr 10 and
 * @microsoft/signalr-protocol-msgpack 10): what we write, they parse; what they write, we parse.
 */
import { describe, it, expect } from 'vitest';
import { JsonHubProtocol, MessageType as CT, NullLogger, type HubMessage as ClientMessage } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { jsonHubProtocol } from './json-protocol.js';
import { completionWithError, completionWithResult, PING, voidCompletion, type HubMessage } from './messages.js';
import { messagePackHubProtocol } from './msgpack-protocol.js';

const theirJson = new JsonHubProtocol();
const theirMsgpack = new MessagePackHubProtocol();
const log = NullLogger.instance;
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
/** A standalone ArrayBuffer holding exactly these bytes (their parser wants an ArrayBuffer). */
const arrayBuffer = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

/** Reads a unit with our reader + parser, cut into two chunks at `cut`. */
function ourParse(protocol: typeof jsonHubProtocol, unit: Uint8Array, cut = unit.length): HubMessage[] {
  const reader = protocol.createReader(1 << 20);
  return [...reader.push(unit.subarray(0, cut)), ...reader.push(unit.subarray(cut))].map((b) => protocol.parse(b));
}

const DATE = new Date('2000-01-01T00:00:00.5Z');

describe('our JSON writer → official JsonHubProtocol.parseMessages', () => {
  const cases: [string, HubMessage, unknown][] = [
    ['Invocation', { type: 1, invocationId: '0', target: 'Echo', arguments: ['hi ☃'] }, { type: 1, invocationId: '0', target: 'Echo', arguments: ['hi ☃'] }],
    ['fire-and-forget Invocation', { type: 1, target: 'Message', arguments: [1, null] }, { type: 1, target: 'Message', arguments: [1, null] }],
    ['StreamItem', { type: 2, invocationId: '1', item: { a: 1 } }, { type: 2, invocationId: '1', item: { a: 1 } }],
    ['StreamItem with undefined item', { type: 2, invocationId: '1', item: undefined }, { type: 2, invocationId: '1', item: null }],
    ['void Completion', voidCompletion('0'), { type: 3, invocationId: '0' }],
    ['Completion with result', completionWithResult('0', 42), { type: 3, invocationId: '0', result: 42 }],
    ['Completion with null result', completionWithResult('0', null), { type: 3, invocationId: '0', result: null }],
    ['Completion with error', completionWithError('0', 'boom'), { type: 3, invocationId: '0', error: 'boom' }],
    ['Ping', PING, { type: 6 }],
    ['Close', { type: 7, error: 'Connection closed with an error.', allowReconnect: true }, { type: 7, error: 'Connection closed with an error.', allowReconnect: true }],
    ['Ack', { type: 8, sequenceId: 3 }, { type: 8, sequenceId: 3 }],
    ['Sequence', { type: 9, sequenceId: 1 }, { type: 9, sequenceId: 1 }],
    [
      'Date and bytes values',
      { type: 1, target: 'M', arguments: [DATE, Uint8Array.from([1, 2, 3])] },
      { type: 1, target: 'M', arguments: ['2000-01-01T00:00:00.5Z', 'AQID'] },
    ],
  ];

  it.each(cases)('%s', (_name, message, expected) => {
    const text = new TextDecoder().decode(jsonHubProtocol.write(message));
    expect(theirJson.parseMessages(text, log)).toStrictEqual([expected]);
  });

  it('parses a unit with all of them in order (types 4 and 5 are skipped by the client)', () => {
    const extra: HubMessage[] = [
      { type: 4, invocationId: '9', target: 'S', arguments: [] },
      { type: 5, invocationId: '9' },
    ];
    const text = [...extra, ...cases.map(([, m]) => m)].map((m) => new TextDecoder().decode(jsonHubProtocol.write(m))).join('');
    expect(theirJson.parseMessages(text, log)).toStrictEqual(cases.map(([, , e]) => e));
  });
});

describe('official JsonHubProtocol.writeMessage → our JSON parser', () => {
  // Built the way HubConnection builds them (property order target, arguments, invocationId, type).
  const cases: [string, ClientMessage, string | undefined, HubMessage][] = [
    ['Ping', { type: CT.Ping }, '{"type":6}', { type: 6 }],
    [
      'invoke()',
      { target: 'Echo', arguments: ['hi ☃'], invocationId: '0', type: CT.Invocation },
      '{"target":"Echo","arguments":["hi ☃"],"invocationId":"0","type":1}',
      { type: 1, target: 'Echo', arguments: ['hi ☃'], invocationId: '0' },
    ],
    [
      'send()',
      { target: 'Echo', arguments: ['fire-and-forget'], type: CT.Invocation },
      '{"target":"Echo","arguments":["fire-and-forget"],"type":1}',
      { type: 1, target: 'Echo', arguments: ['fire-and-forget'] },
    ],
    [
      'stream()',
      { target: 'Stream', arguments: [], invocationId: '1', type: CT.StreamInvocation },
      '{"target":"Stream","arguments":[],"invocationId":"1","type":4}',
      { type: 4, invocationId: '1', target: 'Stream', arguments: [] },
    ],
    [
      'upload stream invocation',
      { target: 'StreamingConcat', arguments: [], invocationId: '3', streamIds: ['2'], type: CT.Invocation },
      '{"target":"StreamingConcat","arguments":[],"invocationId":"3","streamIds":["2"],"type":1}',
      { type: 1, target: 'StreamingConcat', arguments: [], invocationId: '3', streamIds: ['2'] },
    ],
    ['stream item', { invocationId: '2', item: 'x', type: CT.StreamItem }, '{"invocationId":"2","item":"x","type":2}', { type: 2, invocationId: '2', item: 'x' }],
    ['upload completed', { invocationId: '2', type: CT.Completion }, '{"invocationId":"2","type":3}', { type: 3, invocationId: '2' }],
    [
      'client result',
      { invocationId: 'srv-1', result: 42, type: CT.Completion },
      '{"invocationId":"srv-1","result":42,"type":3}',
      completionWithResult('srv-1', 42),
    ],
    [
      'client error',
      { error: 'Error: from callback', invocationId: 'srv-2', type: CT.Completion },
      '{"error":"Error: from callback","invocationId":"srv-2","type":3}',
      completionWithError('srv-2', 'Error: from callback'),
    ],
    ['cancel', { invocationId: '1', type: CT.CancelInvocation }, '{"invocationId":"1","type":5}', { type: 5, invocationId: '1' }],
    ['stop()', { type: CT.Close }, '{"type":7}', { type: 7 }],
    ['Ack', { type: CT.Ack, sequenceId: 2 }, '{"type":8,"sequenceId":2}', { type: 8, sequenceId: 2 }],
    ['Sequence', { type: CT.Sequence, sequenceId: 1 }, '{"type":9,"sequenceId":1}', { type: 9, sequenceId: 1 }],
    ['a Date argument', { target: 'M', arguments: [DATE], type: CT.Invocation }, undefined, { type: 1, target: 'M', arguments: ['2000-01-01T00:00:00.500Z'] }],
  ];

  it.each(cases)('%s', (_name, message, capture, expected) => {
    const text = theirJson.writeMessage(message) as string;
    if (capture !== undefined) expect(text).toBe(capture + '\u001e'); // the doc 4.2 capture
    expect(ourParse(jsonHubProtocol, new TextEncoder().encode(text))).toStrictEqual([expected]);
  });

  it('reads all of them from one unit cut at every offset', () => {
    const unit = new TextEncoder().encode(cases.map(([, m]) => theirJson.writeMessage(m) as string).join(''));
    const expected = cases.map(([, , , e]) => e);
    for (let cut = 0; cut <= unit.length; cut++) {
      expect(ourParse(jsonHubProtocol, unit, cut), `cut at ${cut}`).toStrictEqual(expected);
    }
  });
});

describe('our MessagePack writer → official MessagePackHubProtocol.parseMessages', () => {
  const cases: [string, HubMessage, unknown][] = [
    [
      'Invocation',
      { type: 1, invocationId: '0', target: 'Echo', arguments: ['hi ☃'] },
      { type: 1, headers: {}, invocationId: '0', target: 'Echo', arguments: ['hi ☃'], streamIds: [] },
    ],
    [
      'fire-and-forget Invocation with headers',
      { type: 1, headers: { a: 'b' }, target: 'Message', arguments: [1, null] },
      { type: 1, headers: { a: 'b' }, target: 'Message', arguments: [1, null], streamIds: [] },
    ],
    ['StreamItem', { type: 2, invocationId: '1', item: { a: [1] } }, { type: 2, headers: {}, invocationId: '1', item: { a: [1] } }],
    ['void Completion', voidCompletion('0'), { type: 3, headers: {}, invocationId: '0', error: undefined, result: undefined }],
    ['Completion with result', completionWithResult('0', 42), { type: 3, headers: {}, invocationId: '0', error: undefined, result: 42 }],
    ['Completion with null result', completionWithResult('0', null), { type: 3, headers: {}, invocationId: '0', error: undefined, result: null }],
    ['Completion with error', completionWithError('0', 'boom'), { type: 3, headers: {}, invocationId: '0', error: 'boom', result: undefined }],
    ['Ping', PING, { type: 6 }],
    ['Close', { type: 7 }, { type: 7, error: null, allowReconnect: false }],
    ['Close with error and reconnect', { type: 7, error: 'bye', allowReconnect: true }, { type: 7, error: 'bye', allowReconnect: true }],
    ['Ack', { type: 8, sequenceId: 3 }, { type: 8, sequenceId: 3 }],
    ['Sequence', { type: 9, sequenceId: 70000 }, { type: 9, sequenceId: 70000 }],
    [
      'Date and bytes values',
      completionWithResult('5', [DATE, Uint8Array.from([1, 2, 3])]),
      { type: 3, headers: {}, invocationId: '5', error: undefined, result: [DATE, Uint8Array.from([1, 2, 3])] },
    ],
    [
      'a message over 127 bytes (two-byte varint)',
      { type: 2, invocationId: '1', item: 'z'.repeat(5000) },
      { type: 2, headers: {}, invocationId: '1', item: 'z'.repeat(5000) },
    ],
  ];

  it.each(cases)('%s', (_name, message, expected) => {
    expect(theirMsgpack.parseMessages(arrayBuffer(messagePackHubProtocol.write(message)), log)).toStrictEqual([expected]);
  });

  it('parses one buffer with all of them in order (types 4 and 5 are skipped by the client)', () => {
    const extra: HubMessage[] = [
      { type: 4, invocationId: '9', target: 'S', arguments: [] },
      { type: 5, invocationId: '9' },
    ];
    const unit = concat([...extra, ...cases.map(([, m]) => m)].map((m) => messagePackHubProtocol.write(m)));
    expect(theirMsgpack.parseMessages(arrayBuffer(unit), log)).toStrictEqual(cases.map(([, , e]) => e));
  });
});

describe('official MessagePackHubProtocol.writeMessage → our MessagePack parser', () => {
  const cases: [string, ClientMessage, string | undefined, HubMessage][] = [
    ['Ping', { type: CT.Ping }, '029106', { type: 6 }],
    [
      'invoke()',
      { target: 'Echo', arguments: ['hi ☃'], invocationId: '0', type: CT.Invocation },
      '12950180a130a44563686f91a6686920e29883',
      { type: 1, target: 'Echo', arguments: ['hi ☃'], invocationId: '0' },
    ],
    [
      'send()',
      { target: 'Echo', arguments: ['fire-and-forget'], type: CT.Invocation },
      '1a950180c0a44563686f91af666972652d616e642d666f72676574',
      { type: 1, target: 'Echo', arguments: ['fire-and-forget'] },
    ],
    [
      'stream()',
      { target: 'Stream', arguments: [], invocationId: '1', type: CT.StreamInvocation },
      '0d950480a131a653747265616d90',
      { type: 4, invocationId: '1', target: 'Stream', arguments: [] },
    ],
    [
      'upload stream invocation',
      { target: 'StreamingConcat', arguments: [], invocationId: '3', streamIds: ['2'], type: CT.Invocation },
      '19960180a133af53747265616d696e67436f6e6361749091a132',
      { type: 1, target: 'StreamingConcat', arguments: [], invocationId: '3', streamIds: ['2'] },
    ],
    ['stream item', { invocationId: '2', item: 'x', type: CT.StreamItem }, '07940280a132a178', { type: 2, invocationId: '2', item: 'x' }],
    ['upload done (void)', { invocationId: '2', type: CT.Completion }, '06940380a13202', { type: 3, invocationId: '2' }],
    ['client result', { invocationId: 'srv-1', result: 42, type: CT.Completion }, '0b950380a57372762d31032a', completionWithResult('srv-1', 42)],
    ['client error', { invocationId: 'srv-2', error: 'bad', type: CT.Completion }, undefined, completionWithError('srv-2', 'bad')],
    ['client null result', { invocationId: 'srv-3', result: null, type: CT.Completion }, undefined, completionWithResult('srv-3', null)],
    ['cancel', { invocationId: '1', type: CT.CancelInvocation }, '05930580a131', { type: 5, invocationId: '1' }],
    ['stop()', { type: CT.Close }, '039207c0', { type: 7 }],
    ['Ack', { type: CT.Ack, sequenceId: 2 }, '03920802', { type: 8, sequenceId: 2 }],
    ['Sequence', { type: CT.Sequence, sequenceId: 1 }, '03920901', { type: 9, sequenceId: 1 }],
    [
      'Date and bytes arguments',
      { target: 'M', arguments: [DATE, Uint8Array.from([4, 5])], type: CT.Invocation },
      undefined,
      { type: 1, target: 'M', arguments: [DATE, Uint8Array.from([4, 5])] },
    ],
  ];

  it.each(cases)('%s', (_name, message, capture, expected) => {
    const bytes = new Uint8Array(theirMsgpack.writeMessage(message) as ArrayBuffer);
    if (capture !== undefined) expect(toHex(bytes)).toBe(capture); // the doc 5.3 capture
    expect(ourParse(messagePackHubProtocol, bytes)).toStrictEqual([expected]);
  });

  it('reads all of them from one unit cut at every offset', () => {
    const unit = concat(cases.map(([, m]) => new Uint8Array(theirMsgpack.writeMessage(m) as ArrayBuffer)));
    const expected = cases.map(([, , , e]) => e);
    for (let cut = 0; cut <= unit.length; cut++) {
      expect(ourParse(messagePackHubProtocol, unit, cut), `cut at ${cut}`).toStrictEqual(expected);
    }
  });
});
