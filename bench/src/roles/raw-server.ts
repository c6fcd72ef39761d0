import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { monoMs } from '../clock.js';
import { PAD, serveSource } from './source.js';

/**
 * The raw `ws` limit: a plain `ws` server whose clients pick a group in the URL (`/?g=g3`); its
 * own loop broadcasts one pre-serialized frame (the same bytes a JSON hub client gets for a tick)
 * to the group's sockets, one frame per delivery. No Redis, no hub protocol on the server.
 */
const groups = Array.from({ length: Number(process.env['GROUPS']) }, () => new Set<WebSocket>());
const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
let connections = 0;
wss.on('connection', (ws, req) => {
  const g = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('g')?.slice(1));
  const set = groups[g];
  if (!set) return ws.close(1008, 'bad group');
  set.add(ws);
  connections++;
  ws.on('close', () => {
    set.delete(ws);
    connections--;
  });
  ws.on('error', () => ws.terminate());
});

const SEND = { binary: false, compress: false };
serveSource(
  (seq) => {
    const members = groups[seq % groups.length]!;
    if (!members.size) return;
    const frame = Buffer.from(`{"type":1,"target":"tick","arguments":[${JSON.stringify({ t: monoMs(), s: seq, p: PAD })}]}\u001e`);
    for (const ws of members) ws.send(frame, SEND);
  },
  {
    start: () =>
      new Promise((resolve) => {
        http.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(http.address() as { port: number }).port}` }));
      }),
    connections: () => connections,
  },
);
