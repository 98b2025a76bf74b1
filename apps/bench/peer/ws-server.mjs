// The comparison peer: a plain Node server on the npm `ws` package, as the
// standard WebSocket benchmarks write it. Usage: node ws-server.mjs echo|broadcast [port]
// echo: every message back to its sender, same opcode.
// broadcast: every message to every connected client, the sender included.
import { WebSocketServer, WebSocket } from 'ws';

const mode = process.argv[2];
if (mode !== 'echo' && mode !== 'broadcast') {
  console.error('usage: node ws-server.mjs echo|broadcast [port]');
  process.exit(2);
}
const port = Number(process.argv[3] ?? 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
wss.on('listening', () => console.log(`listening on http://127.0.0.1:${wss.address().port}`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (mode === 'echo') return ws.send(data, { binary: isBinary });
    for (const client of wss.clients)
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { wss.close(); process.exit(0); });
