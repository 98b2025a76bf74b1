// Child process for presence.test.mjs: joins a presence topic with the phoenix client and then
// idles until it is killed. Not a test file (node --test does not pick it up).
//
// Usage: node presence_child.mjs <ws-url> <topic> <json-join-params>
// Prints one line `{"joined":true}` (or `{"error":...}`) to stdout once the join is answered.
// Exits by itself when its stdin closes, so it can never outlive the test process.

import { Socket } from 'phoenix';
import WebSocket from 'ws';

const [url, topic, paramsJson] = process.argv.slice(2);
const socket = new Socket(url, {
  transport: WebSocket,
  timeout: 3_000,
  reconnectAfterMs: () => 60_000, // a reconnect would re-track the user: keep it out of the way
  rejoinAfterMs: () => 60_000,
});
socket.connect();
const channel = socket.channel(topic, JSON.parse(paramsJson));
channel.join()
  .receive('ok', () => process.stdout.write(JSON.stringify({ joined: true }) + '\n'))
  .receive('error', (resp) => process.stdout.write(JSON.stringify({ error: resp }) + '\n'))
  .receive('timeout', () => process.stdout.write(JSON.stringify({ error: 'timeout' }) + '\n'));

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
