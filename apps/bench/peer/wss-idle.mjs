// idle over wss://: opens N connections to 127.0.0.1:PORT (any certificate accepted),
// each joins echo:tls; after SETTLE seconds of silence prints the server RSS growth
// per connection, read from /proc/PID/status. Usage: node wss-idle.mjs PORT N PID SETTLE
import WebSocket from 'ws';
import fs from 'fs';
const [port, n, pid, settle] = process.argv.slice(2).map(Number);
const rss = () => Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
const before = rss();
const socks = [];
let started = 0, joined = 0;
await new Promise((resolve) => {
  const startOne = () => {
    if (started >= n) return;
    started++;
    const ws = new WebSocket(`wss://127.0.0.1:${port}/socket/websocket?vsn=2.0.0`, { rejectUnauthorized: false });
    ws.on('open', () => { ws.send(JSON.stringify(['1', '1', 'echo:tls', 'phx_join', {}])); startOne(); });
    ws.once('message', () => { if (++joined === n) resolve(); });
    ws.on('error', (e) => { console.error('error', e.message); process.exit(1); });
    socks.push(ws);
  };
  for (let i = 0; i < 50; i++) startOne();
});
await new Promise((r) => setTimeout(r, settle * 1000));
const after = rss();
console.log(JSON.stringify({ connections: n, joined, bytes_per_connection: Math.round((after - before) * 1024 / n) }));
process.exit(0);
