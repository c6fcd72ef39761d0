import { jsonHubProtocol, messagePackHubProtocol, MessageType, type HubMessage } from '@switchboard/protocol';

const encoder = new TextEncoder();
const RS = '\u001e';

/** Valid hub messages of every type, with the value kinds clients send. */
export const SAMPLE_MESSAGES: readonly HubMessage[] = [
  { type: MessageType.Invocation, invocationId: '1', target: 'Echo', arguments: ['hi ☃', 42, true, null, { a: [1, 2, { b: 'c' }] }] },
  { type: MessageType.Invocation, target: 'Broadcast', arguments: ['fire and forget'] },
  { type: MessageType.Invocation, invocationId: '2', target: 'Record', arguments: [new Uint8Array([1, 2, 3]), new Date(0)], headers: { trace: 'x' } },
  { type: MessageType.Invocation, invocationId: '3', target: 'Echo', arguments: [], streamIds: ['4'] },
  { type: MessageType.StreamInvocation, invocationId: '5', target: 'Echo', arguments: [1.5, -1, 9007199254740991] },
  { type: MessageType.StreamItem, invocationId: '4', item: { nested: [[[]]] } },
  { type: MessageType.Completion, invocationId: '4' },
  { type: MessageType.Completion, invocationId: 's1', result: 'answer', hasResult: true },
  { type: MessageType.Completion, invocationId: 's2', error: 'Client failed' },
  { type: MessageType.CancelInvocation, invocationId: '5' },
  { type: MessageType.Ping },
  { type: MessageType.Close, error: 'bye', allowReconnect: true },
  { type: MessageType.Ack, sequenceId: 3 },
  { type: MessageType.Sequence, sequenceId: 1 },
];

/** The official v10 client's JSON records as captured on the wire (doc 4.2). */
const CAPTURED_JSON = [
  '{"type":6}',
  '{"target":"Echo","arguments":["hi ☃"],"invocationId":"0","type":1}',
  '{"target":"Stream","arguments":[],"invocationId":"1","type":4}',
  '{"target":"StreamingConcat","arguments":[],"invocationId":"3","streamIds":["2"],"type":1}',
  '{"invocationId":"2","item":"x","type":2}',
  '{"type":3,"invocationId":"2"}',
  '{"type":5,"invocationId":"1"}',
  '{"type":7}',
];

/** The official v10 client's MessagePack frames as captured (doc 5.3), hex. */
const CAPTURED_MSGPACK = [
  '029106',
  '12950180a130a44563686f91a6686920e29883',
  '1a950180c0a44563686f91af666972652d616e642d666f72676574',
  '0d950480a131a653747265616d90',
  '19960180a133af53747265616d696e67436f6e6361749091a132',
  '07940280a132a178',
  '06940380a13202',
  '0b950380a57372762d31032a',
  '039207c0',
];

/** JSON records, each with its RS. */
export const JSON_CORPUS: readonly Uint8Array[] = [
  ...SAMPLE_MESSAGES.map((m) => jsonHubProtocol.write(m)),
  ...CAPTURED_JSON.map((t) => encoder.encode(t + RS)),
];

/** MessagePack frames, each with its varint prefix. */
export const MSGPACK_CORPUS: readonly Uint8Array[] = [
  ...SAMPLE_MESSAGES.map((m) => messagePackHubProtocol.write(m)),
  ...CAPTURED_MSGPACK.map((h) => Uint8Array.from(Buffer.from(h, 'hex'))),
];

/** Handshake requests (always JSON + RS, whatever the protocol). */
export const HANDSHAKE_CORPUS: readonly Uint8Array[] = [
  '{"protocol":"json","version":1}',
  '{"protocol":"messagepack","version":1}',
  '{"protocol":"json","version":2}',
  '{"version":1,"protocol":"messagepack","extra":[1,2,{"x":null}]}',
  '{"protocol":"json","version":0}',
].map((t) => encoder.encode(t + RS));
