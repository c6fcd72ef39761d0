import { connect } from 'node:net';
import { monoMs } from '../clock.js';
import { serveSource } from './source.js';

/**
 * The Redis limit's publisher: PUBLISH of a payload the size of a Switchboard backplane envelope
 * (PAYLOAD_BYTES) on one channel, written as raw RESP with each burst in one write (a pipeline),
 * replies read and dropped. No client library in the way: this measures Redis and the subscribers.
 */
const url = new URL(process.env['REDIS_URL']!);
const size = Number(process.env['PAYLOAD_BYTES'] ?? 200);
const channel = `${process.env['REDIS_PREFIX'] ?? 'bench:'}limit`;
const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
socket.on('data', () => {});
socket.on('error', (err) => {
  console.error(`redis-publisher: ${err.message}`);
  process.exit(1);
});
const head = Buffer.from(`*3\r\n$7\r\nPUBLISH\r\n$${Buffer.byteLength(channel)}\r\n${channel}\r\n$${size}\r\n`);
const commandBytes = head.length + size + 2;
let burst: Buffer[] = [];

serveSource(
  () => {
    const cmd = Buffer.alloc(commandBytes, 0x78);
    head.copy(cmd, 0);
    cmd.writeDoubleBE(monoMs(), head.length);
    cmd[commandBytes - 2] = 0x0d;
    cmd[commandBytes - 1] = 0x0a;
    burst.push(cmd);
  },
  {},
  () => {
    socket.end();
  },
  () => {
    socket.write(Buffer.concat(burst));
    burst = [];
  },
);
