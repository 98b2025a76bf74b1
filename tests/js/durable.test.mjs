// Durable topics through the official npm `phoenix` client (over `ws`): numbered, stored
// broadcasts, recovery on join ({since: N}) and replay ({history: K}), across server restarts,
// under concurrent live traffic, with a retention limit, and the /api history endpoint.
//
// Run: cd tests/js && ROOMCAST_BIN=/path/to/roomcast node --test durable.test.mjs
// ROOMCAST_BIN defaults to ../../build/bin/roomcast relative to this file.
//
// Every server runs with `--durable 'echo:*' --data-dir <own temp dir>`; the `echo:*` channel
// acks each push with {...payload, seq} and broadcasts {seq, ...payload} to every member.
// Every wait is bounded and resolved from events (replies, received seqs, socket/channel
// callbacks), never from sleeps. Servers, sockets and temp dirs are torn down in finally blocks,
// and again in the `after` hook as a safety net.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Socket } from 'phoenix';
import WebSocket from 'ws';
import {
  HOST, withTimeout, deferred, startServer, startServerOnPort, killAllServers, replyOf,
  socketPool,
} from './server.mjs';

const WAIT_MS = 5_000; // bound for any single awaited event
const TEST_TIMEOUT_MS = 20_000;
const API_KEY = 'durable-test-key';
const EVENT = 'msg';
const INVALID_PARAMS_REASON = 'invalid join params: since and history must be non-negative integers';

// ---------------------------------------------------------------------------------------------
// helpers (server spawning lives in ./server.mjs)

const sockets = socketPool();
const makeSocket = (port, opts) => sockets.make(port, opts);
const disconnect = (socket) => sockets.disconnect(socket);
const liveDirs = new Set();

function makeDataDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomcast-durable-'));
  liveDirs.add(dir);
  return dir;
}

function removeDataDir(dir) {
  liveDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

function durableArgs(dataDir, extra = []) {
  return ['--durable', 'echo:*', '--data-dir', dataDir, '--api-key', API_KEY, ...extra];
}



/** Connects a socket and resolves once it is open. */
async function connected(port, opts) {
  const socket = makeSocket(port, opts);
  const open = deferred();
  socket.onOpen(() => open.resolve());
  socket.connect();
  await withTimeout(open.promise, WAIT_MS, `socket open on port ${port}`);
  return socket;
}

function joinOk(channel) {
  return replyOf(channel.join(), `join ${channel.topic} ${JSON.stringify(channel.params())}`);
}

/** Resolves with the response of a join's `error` reply; rejects on `ok` or `timeout`. */
function joinError(channel) {
  const what = `join ${channel.topic} ${JSON.stringify(channel.params())}`;
  return withTimeout(new Promise((resolve, reject) => {
    channel.join()
      .receive('ok', (resp) => reject(new Error(`${what}: unexpected ok ${JSON.stringify(resp)}`)))
      .receive('error', resolve)
      .receive('timeout', () => reject(new Error(`${what}: join timeout`)));
  }), WAIT_MS, what);
}

/** [from, from+1, ..., to] (empty if to < from). */
function range(from, to) {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/**
 * Records, in arrival order, the seq of every EVENT broadcast delivered to `channel` and lets
 * the test await a given seq. Events that arrive while the channel is not joined (i.e. before
 * its (re)join reply: phoenix sets state 'joined' synchronously when the ok reply arrives) are
 * also recorded in `early`: the server must send replays after the reply.
 */
function collect(channel) {
  const c = {
    seqs: [],
    payloads: [],
    early: [],
    waiters: [],
    /** Resolves once an event with seq >= `seq` has been received. */
    until(seq, what = `seq ${seq} on ${channel.topic}`) {
      if (c.seqs.some((s) => s >= seq)) return Promise.resolve();
      const d = deferred();
      c.waiters.push({ seq, resolve: d.resolve });
      return withTimeout(d.promise, WAIT_MS, what)
        .catch((e) => { throw new Error(`${e.message}; received so far: ${JSON.stringify(c.seqs)}`); });
    },
  };
  channel.on(EVENT, (payload) => {
    if (channel.state !== 'joined') c.early.push(payload.seq);
    c.seqs.push(payload.seq);
    c.payloads.push(payload);
    c.waiters = c.waiters.filter((w) => {
      if (payload.seq >= w.seq) { w.resolve(); return false; }
      return true;
    });
  });
  return c;
}

/** Pushes EVENT with `payload` and resolves with the ack's seq (checking the ack's shape). */
async function publish(channel, payload) {
  const resp = await replyOf(channel.push(EVENT, payload), `push ${JSON.stringify(payload)} to ${channel.topic}`);
  assert.ok(Number.isInteger(resp.seq) && resp.seq >= 1, `ack carries a seq: ${JSON.stringify(resp)}`);
  assert.deepEqual(resp, { ...payload, seq: resp.seq }, 'ack = pushed payload + seq');
  return resp.seq;
}

async function historyApi(port, topic, query = '', headers = { Authorization: `Bearer ${API_KEY}` }) {
  const url = `http://${HOST}:${port}/api/topics/${encodeURIComponent(topic)}/history${query}`;
  const res = await withTimeout(fetch(url, { headers }), WAIT_MS, `GET ${url}`);
  return { status: res.status, body: await res.json() };
}

/** A TCP port on HOST that refuses connections (bound once, then released). */
async function refusedPort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => srv.listen(0, HOST, resolve).once('error', reject));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

after(async () => {
  sockets.closeAll();
  killAllServers();
  for (const dir of [...liveDirs]) removeDataDir(dir);
});

// ---------------------------------------------------------------------------------------------
// tests

test('acks carry consecutive per-topic seqs; broadcasts carry the same seqs', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = makeDataDir();
  const server = await startServer({ args: durableArgs(dir) });
  const alice = makeSocket(server.port);
  const bob = makeSocket(server.port);
  try {
    alice.connect();
    bob.connect();
    const topic = 'echo:seq';
    const chA = alice.channel(topic, {});
    const chB = bob.channel(topic, {});
    const gotA = collect(chA);
    const gotB = collect(chB);
    await Promise.all([joinOk(chA), joinOk(chB)]);

    // Fire all pushes at once: they are processed in send order on one socket.
    const N = 20;
    const payloads = range(1, N).map((i) => ({ i, text: `m${i}` }));
    const acks = await Promise.all(payloads.map((p) => publish(chA, p)));
    assert.deepEqual(acks, range(1, N), 'push i is acked with seq i, consecutive from 1');

    await Promise.all([gotA.until(N), gotB.until(N)]);
    const expected = payloads.map((p, k) => ({ seq: k + 1, ...p }));
    assert.deepEqual(gotA.payloads, expected, 'the pusher receives every broadcast, with its ack seq');
    assert.deepEqual(gotB.payloads, expected, 'the other member receives the same broadcasts');
    assert.deepEqual([...gotA.early, ...gotB.early], [], 'no event before a join reply');

    // Seqs are per topic: another durable topic starts at 1 again.
    const other = alice.channel('echo:seq-other', {});
    await joinOk(other);
    assert.equal(await publish(other, { first: true }), 1, 'another topic starts at seq 1');
    assert.equal(await publish(chA, { i: N + 1 }), N + 1, 'the first topic continues');

    // The history API returns what was broadcast (stored after commit, before the ack).
    const { status, body } = await historyApi(server.port, topic, '?since=0&limit=100');
    assert.equal(status, 200);
    assert.equal(body.topic, topic);
    assert.equal(body.oldest_seq, 1);
    assert.equal(body.last_seq, N + 1);
    assert.deepEqual(body.messages.map((m) => m.seq), range(1, N + 1));
    assert.deepEqual(body.messages.slice(0, N).map((m) => m.payload), expected);
    for (const m of body.messages) {
      assert.equal(m.event, EVENT);
      assert.ok(Number.isFinite(m.ts) && m.ts > 0, `ts is a timestamp: ${m.ts}`);
    }
    const since15 = await historyApi(server.port, topic, '?since=15');
    assert.deepEqual(since15.body.messages.map((m) => m.seq), range(16, N + 1), 'since=15 -> 16..last');
    const noAuth = await historyApi(server.port, topic, '', {});
    assert.equal(noAuth.status, 401, 'the history API requires the bearer key');
  } finally {
    await Promise.all([disconnect(alice), disconnect(bob)]);
    await server.stop();
    removeDataDir(dir);
  }
});

test('the client recovers by itself across a server restart: seqs 1..total, no gap, no duplicate', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = makeDataDir();
  let server = await startServer({ args: durableArgs(dir) });
  const port = server.port;
  const topic = 'echo:restart';

  // A's transport honours a "network" gate: while closed, connection attempts go to a port that
  // refuses them, so the test decides when A can reach the restarted server (after B has
  // published). A's reconnect and rejoin are still phoenix's own.
  const gate = { open: true };
  const deadPort = await refusedPort();
  class GatedWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(gate.open ? url : url.replace(`:${port}/`, `:${deadPort}/`), protocols);
    }
  }
  const a = makeSocket(port, { transport: GatedWebSocket });
  let b = null;
  try {
    const closed = deferred();
    a.onClose(() => closed.resolve());
    a.connect();

    let lastSeen = 0;
    const sentParams = []; // every join params A sent, as evaluated by phoenix
    const chA = a.channel(topic, () => {
      const params = { since: lastSeen };
      sentParams.push(params);
      return params;
    });
    const gotA = collect(chA);
    chA.on(EVENT, (payload) => { lastSeen = payload.seq; });
    const joinReplies = [];
    let joinWaiter = deferred();
    chA.join()
      .receive('ok', (resp) => { joinReplies.push(resp); joinWaiter.resolve(resp); })
      .receive('error', (resp) => joinWaiter.reject(new Error(`join error ${JSON.stringify(resp)}`)));
    const first = await withTimeout(joinWaiter.promise, WAIT_MS, `first join of ${topic}`);
    assert.deepEqual(first, { recovered: true, oldest_seq: 1, last_seq: 0 }, 'join of an empty topic');
    assert.deepEqual(sentParams, [{ since: 0 }]);

    // Phase 1: A publishes 5 messages and sees them.
    const N1 = 5;
    for (let i = 1; i <= N1; i++) assert.equal(await publish(chA, { phase: 1, i }), i);
    await gotA.until(N1);
    assert.equal(lastSeen, N1);

    // Stop the server (graceful). Nothing is published while it is down.
    gate.open = false;
    joinWaiter = deferred();
    const [exit] = await withTimeout(Promise.all([server.stop('SIGTERM'), closed.promise]),
      WAIT_MS, 'server exit and client close');
    assert.deepEqual(exit, { code: 0, signal: null }, `server exit status; stderr:\n${server.stderr()}`);
    assert.equal(chA.state, 'errored', 'A\'s channel errors when the transport closes');

    // Same port, same data dir. B publishes while A is still away: seqs continue from the store.
    server = await startServerOnPort(port, durableArgs(dir));
    assert.equal(server.port, port);
    b = await connected(port);
    const chB = b.channel(topic, {});
    await joinOk(chB);
    const M1 = 7;
    for (let i = 1; i <= M1; i++) {
      assert.equal(await publish(chB, { phase: 2, i }), N1 + i, 'seqs continue after the restart');
    }

    // Let A through: it must reconnect and rejoin by itself with {since: 5}, and recover 6..12.
    gate.open = true;
    const rejoin = await withTimeout(joinWaiter.promise, WAIT_MS, `automatic rejoin of ${topic}`);
    assert.deepEqual(sentParams.at(-1), { since: N1 }, 'the rejoin re-evaluated the params function');
    assert.deepEqual(rejoin, { recovered: true, oldest_seq: 1, last_seq: N1 + M1 });
    await gotA.until(N1 + M1, 'A to recover the messages published while it was away');

    // Phase 3: live traffic after the rejoin.
    const M2 = 5;
    for (let i = 1; i <= M2; i++) assert.equal(await publish(chB, { phase: 3, i }), N1 + M1 + i);
    const total = N1 + M1 + M2;
    await gotA.until(total);

    assert.deepEqual(gotA.seqs, range(1, total), 'A saw every seq exactly once, in order');
    assert.deepEqual(gotA.early, [], 'no event reached A before its (re)join reply');
    assert.deepEqual(gotA.payloads.map((p) => p.phase),
      [...Array(N1).fill(1), ...Array(M1).fill(2), ...Array(M2).fill(3)]);
    assert.equal(joinReplies.length, 2, 'A joined twice (initial join + one automatic rejoin)');
    assert.equal(chA.state, 'joined');
  } finally {
    gate.open = true;
    await disconnect(a);
    if (b) await disconnect(b);
    await server.stop();
    removeDataDir(dir);
  }
});

test('join {since: k} during concurrent live traffic delivers exactly k+1..last, in order', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = makeDataDir();
  const server = await startServer({ args: durableArgs(dir) });
  let p = null;
  let c = null;
  try {
    const topic = 'echo:live';
    [p, c] = await Promise.all([connected(server.port), connected(server.port)]);
    const chP = p.channel(topic, {});
    const gotP = collect(chP);
    await joinOk(chP);

    // C joins with {since: k} once seq JOIN_AT is acked, with WINDOW pushes still in flight.
    // P keeps WINDOW pushes in flight (fired without awaiting each) until it has sent MIN_TOTAL
    // and at least AFTER_JOIN more after C's join reply, so traffic surely overlaps the join.
    const MIN_TOTAL = 300;
    const JOIN_AT = 100;
    const WINDOW = 16;
    const AFTER_JOIN = 50;

    let k = null;
    let sentAtCJoinReply = null;
    let cJoinReply = null;
    let chC = null;
    let gotC = null;
    const cJoin = deferred();
    const done = deferred();
    const acked = [];
    let sent = 0;
    let inFlight = 0;

    const target = () => (sentAtCJoinReply === null ? Infinity : Math.max(MIN_TOTAL, sentAtCJoinReply + AFTER_JOIN));
    const startCJoin = (since) => {
      k = since;
      chC = c.channel(topic, { since });
      gotC = collect(chC);
      chC.join()
        .receive('ok', (resp) => {
          cJoinReply = resp;
          sentAtCJoinReply = sent;
          cJoin.resolve();
          fill();
        })
        .receive('error', (resp) => cJoin.reject(new Error(`C join error ${JSON.stringify(resp)}`)))
        .receive('timeout', () => cJoin.reject(new Error('C join timeout')));
    };
    const fill = () => {
      while (inFlight < WINDOW && sent < target()) {
        const i = ++sent;
        inFlight++;
        chP.push(EVENT, { i })
          .receive('ok', (resp) => {
            inFlight--;
            acked.push(resp.seq);
            if (resp.i !== i || resp.seq !== i) {
              done.reject(new Error(`push ${i} acked with ${JSON.stringify(resp)}`));
              return;
            }
            fill(); // refill first, so WINDOW pushes are in flight when C joins
            if (k === null && resp.seq >= JOIN_AT) startCJoin(resp.seq);
            if (inFlight === 0 && sent >= target()) done.resolve();
          })
          .receive('error', (resp) => done.reject(new Error(`push ${i} error ${JSON.stringify(resp)}`)))
          .receive('timeout', () => done.reject(new Error(`push ${i} timeout`)));
      }
    };
    fill();

    await withTimeout(cJoin.promise, WAIT_MS, 'C join reply');
    await withTimeout(done.promise, WAIT_MS, `publisher to finish (sent ${sent}, acked ${acked.length})`);
    const last = sent;
    assert.ok(last >= MIN_TOTAL, `published ${last}`);
    assert.deepEqual(acked, range(1, last), 'acks are consecutive seqs 1..last');

    assert.equal(cJoinReply.recovered, true, `C join reply ${JSON.stringify(cJoinReply)}`);
    assert.equal(cJoinReply.oldest_seq, 1);
    assert.ok(cJoinReply.last_seq >= k && cJoinReply.last_seq < last,
      `C joined mid-stream: k=${k}, reply last_seq=${cJoinReply.last_seq}, last=${last}`);

    // A sentinel published after everything else flushes any late duplicate before it.
    await gotC.until(last, 'C to receive up to the last published seq');
    assert.equal(await publish(chP, { sentinel: true }), last + 1);
    await Promise.all([gotC.until(last + 1), gotP.until(last + 1)]);

    assert.deepEqual(gotC.early, [], 'no event reached C before its join reply');
    assert.deepEqual(gotC.seqs, range(k + 1, last + 1), `C got exactly ${k + 1}..${last + 1}, in order`);
    assert.deepEqual(gotC.payloads.slice(0, -1).map((pl) => pl.i), range(k + 1, last),
      'each seq carries the payload of the push acked with it');
    assert.deepEqual(gotP.seqs, range(1, last + 1), 'the publisher saw all its broadcasts');
  } finally {
    await Promise.all([p && disconnect(p), c && disconnect(c)]);
    await server.stop();
    removeDataDir(dir);
  }
});

test('join {history: 5} replays the last 5 messages, then live ones', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = makeDataDir();
  const server = await startServer({ args: durableArgs(dir) });
  let pub = null;
  let sub = null;
  try {
    const topic = 'echo:history';
    [pub, sub] = await Promise.all([connected(server.port), connected(server.port)]);
    const chP = pub.channel(topic, {});
    await joinOk(chP);
    const N = 8;
    for (let i = 1; i <= N; i++) assert.equal(await publish(chP, { i }), i);

    const chH = sub.channel(topic, { history: 5 });
    const gotH = collect(chH);
    const reply = await joinOk(chH);
    assert.deepEqual(reply, { oldest_seq: 1, last_seq: N }, 'history reply: oldest/last, no "recovered"');
    await gotH.until(N);

    // a plain subscriber (own socket) gets no replay, only live messages
    const plainSocket = await connected(server.port);
    try {
      const chPl = plainSocket.channel(topic, {});
      const gotPl = collect(chPl);
      assert.deepEqual(await joinOk(chPl), {}, 'a plain join has an empty reply');
      assert.equal(await publish(chP, { i: N + 1 }), N + 1);
      await Promise.all([gotH.until(N + 1), gotPl.until(N + 1)]);
      assert.deepEqual(gotPl.seqs, [N + 1], 'a join without since/history replays nothing');
    } finally {
      await disconnect(plainSocket);
    }

    assert.deepEqual(gotH.early, [], 'no event before the join reply');
    assert.deepEqual(gotH.seqs, range(N - 4, N + 1), 'last 5 replayed, then the live one, once each');
    assert.deepEqual(gotH.payloads.map((pl) => pl.i), range(N - 4, N + 1));
  } finally {
    await Promise.all([pub && disconnect(pub), sub && disconnect(sub)]);
    await server.stop();
    removeDataDir(dir);
  }
});

test('retention: since older than the kept window -> recovered false, replay of what is kept', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = makeDataDir();
  const server = await startServer({ args: durableArgs(dir, ['--retention-messages', '10']) });
  let pub = null;
  let sub = null;
  try {
    const topic = 'echo:retention';
    [pub, sub] = await Promise.all([connected(server.port), connected(server.port)]);
    const chP = pub.channel(topic, {});
    await joinOk(chP);
    const N = 30;
    const acks = await Promise.all(range(1, N).map((i) => publish(chP, { i })));
    assert.deepEqual(acks, range(1, N));

    const chS = sub.channel(topic, { since: 2 });
    const gotS = collect(chS);
    const reply = await joinOk(chS);
    assert.deepEqual(reply, { recovered: false, oldest_seq: 21, last_seq: 30 });
    await gotS.until(N);
    assert.equal(await publish(chP, { i: N + 1 }), N + 1);
    await gotS.until(N + 1);
    assert.deepEqual(gotS.early, [], 'no event before the join reply');
    assert.deepEqual(gotS.seqs, range(21, N + 1), 'replays 21..30 (what is kept), then live 31');
    assert.deepEqual(gotS.payloads.map((pl) => pl.i), range(21, N + 1));

    const { status, body } = await historyApi(server.port, topic);
    assert.equal(status, 200);
    assert.equal(body.oldest_seq, 22, 'seq 31 pushed seq 21 out');
    assert.deepEqual(body.messages.map((m) => m.seq), range(22, N + 1));
  } finally {
    await Promise.all([pub && disconnect(pub), sub && disconnect(sub)]);
    await server.stop();
    removeDataDir(dir);
  }
});

test('invalid since/history join params are rejected with a reason', { timeout: TEST_TIMEOUT_MS }, async () => {
  const dir = makeDataDir();
  const server = await startServer({ args: durableArgs(dir) });
  let socket = null;
  const channels = [];
  try {
    socket = await connected(server.port);
    for (const params of [{ since: 'x' }, { since: -1 }, { history: -1 }, { since: 1.5 }]) {
      const ch = socket.channel(`echo:invalid-${channels.length}`, params);
      channels.push(ch);
      assert.deepEqual(await joinError(ch), { reason: INVALID_PARAMS_REASON }, JSON.stringify(params));
      ch.leave(); // stops the client's rejoin timer for the rejected channel
    }
    assert.ok(socket.isConnected(), 'a rejected join does not close the socket');
    const ok = socket.channel('echo:invalid-after', { since: 0 });
    assert.deepEqual(await joinOk(ok), { recovered: true, oldest_seq: 1, last_seq: 0 },
      'a valid since on an empty topic joins');
  } finally {
    if (socket) await disconnect(socket);
    await server.stop();
    removeDataDir(dir);
  }
});
