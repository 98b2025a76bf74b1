// Real-client tests: the official npm `phoenix` client (over `ws`) against build/bin/roomcast.
//
// Run: cd tests/js && ROOMCAST_BIN=/path/to/roomcast node --test
// ROOMCAST_BIN defaults to ../../build/bin/roomcast relative to this file.
//
// Every wait is bounded (withTimeout / per-test timeout) and waits on events, never on sleeps.
// Every spawned server and every socket is torn down in finally blocks, and again in the
// `after` hook as a safety net, so the test process always exits.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'phoenix';
import WebSocket from 'ws';
import {
  HOST, withTimeout, deferred, startServer, startServerOnPort, killAllServers,
  replyOf,
  socketPool,
} from './server.mjs';

const WAIT_MS = 5_000; // bound for any single awaited event
const TEST_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// helpers (server spawning lives in ./server.mjs)

const sockets = socketPool();
const makeSocket = (port, opts) => sockets.make(port, opts);
const disconnect = (socket) => sockets.disconnect(socket);




function joinOk(channel) {
  return replyOf(channel.join(), `join ${channel.topic}`);
}

/** Resolves with the next `event` payload delivered to `channel`. */
function nextEvent(channel, event) {
  return withTimeout(new Promise((resolve) => {
    const ref = channel.on(event, (payload) => { channel.off(event, ref); resolve(payload); });
  }), WAIT_MS, `${event} on ${channel.topic}`);
}

after(async () => {
  sockets.closeAll();
  killAllServers();
});

// ---------------------------------------------------------------------------------------------
// tests

test('join echo:lobby, push an event, get ok with the same payload', { timeout: TEST_TIMEOUT_MS }, async () => {
  const server = await startServer();
  const socket = makeSocket(server.port);
  try {
    socket.connect();
    const channel = socket.channel('echo:lobby', {});
    const joinResp = await joinOk(channel);
    assert.deepEqual(joinResp, {});
    assert.equal(channel.state, 'joined');

    const payload = { text: 'hello', n: 42, nested: { list: [1, 'two', null, true] }, unicode: 'héllo ✓' };
    const resp = await replyOf(channel.push('say', payload), 'push say');
    assert.deepEqual(resp, payload);
  } finally {
    await disconnect(socket);
    await server.stop();
  }
});

test('two sockets on one topic both receive a broadcast', { timeout: TEST_TIMEOUT_MS }, async () => {
  const server = await startServer();
  const alice = makeSocket(server.port);
  const bob = makeSocket(server.port);
  try {
    alice.connect();
    bob.connect();
    const chA = alice.channel('echo:shared', {});
    const chB = bob.channel('echo:shared', {});
    await Promise.all([joinOk(chA), joinOk(chB)]);

    const order = []; // what the pusher (alice) sees, in arrival order
    const payload = { msg: 'hi all', at: 1 };
    const gotA = nextEvent(chA, 'shout').then((p) => { order.push('broadcast'); return p; });
    const gotB = nextEvent(chB, 'shout');
    const reply = replyOf(chA.push('shout', payload), 'push shout').then((p) => { order.push('reply'); return p; });

    const [pa, pb, pr] = await Promise.all([gotA, gotB, reply]);
    assert.deepEqual(pa, payload, 'pusher receives its own broadcast');
    assert.deepEqual(pb, payload, 'other member receives the broadcast');
    assert.deepEqual(pr, payload, 'pusher gets the ok reply with the same payload');
    assert.deepEqual(order, ['broadcast', 'reply'], 'broadcast arrives before the reply');
  } finally {
    await Promise.all([disconnect(alice), disconnect(bob)]);
    await server.stop();
  }
});

test('client reconnects and rejoins after the server restarts on the same port', { timeout: TEST_TIMEOUT_MS }, async () => {
  let server = await startServer();
  const port = server.port;
  const socket = makeSocket(port);
  try {
    const closeWaiter = deferred(); // resolves with the first close event
    socket.onClose((event) => closeWaiter.resolve(event));
    let opens = 0;
    socket.onOpen(() => { opens++; });

    socket.connect();
    const channel = socket.channel('echo:room', {});
    const states = [];
    channel.onError(() => states.push('errored'));
    let joins = 0;
    let joinWaiter = deferred();
    channel.join()
      .receive('ok', () => { joins++; states.push('joined'); joinWaiter.resolve(); })
      .receive('error', (resp) => joinWaiter.reject(new Error(`join error ${JSON.stringify(resp)}`)));
    await withTimeout(joinWaiter.promise, WAIT_MS, 'first join of echo:room');
    assert.equal(joins, 1);
    assert.equal(channel.state, 'joined');
    assert.deepEqual(await replyOf(channel.push('ping', { n: 1 }), 'push before restart'), { n: 1 });

    // Graceful shutdown: SIGTERM drains -> exit code 0, client sees close 1012.
    joinWaiter = deferred();
    const [exit, closeEvent] = await withTimeout(
      Promise.all([server.stop('SIGTERM'), closeWaiter.promise]), WAIT_MS, 'server exit and client close');
    assert.deepEqual(exit, { code: 0, signal: null }, `server exit status; stderr:\n${server.stderr()}`);
    assert.equal(closeEvent.code, 1012, 'close code is 1012 (service restart: SIGTERM drains)');
    assert.equal(channel.state, 'errored', 'channel errors when the transport closes');
    assert.equal(joins, 1);

    // A new server on the same port; the client must reconnect and rejoin by itself.
    server = await startServerOnPort(port);
    assert.equal(server.port, port);
    await withTimeout(joinWaiter.promise, WAIT_MS, 'automatic rejoin of echo:room');
    assert.equal(joins, 2);
    assert.equal(channel.state, 'joined');
    assert.ok(opens >= 2, `socket reopened (opens=${opens})`);
    assert.ok(socket.isConnected());
    assert.deepEqual(states, ['joined', 'errored', 'joined']);
    assert.deepEqual(await replyOf(channel.push('ping', { n: 2 }), 'push after rejoin'), { n: 2 });
  } finally {
    await disconnect(socket);
    await server.stop();
  }
});

test('heartbeats keep the socket alive and are answered with phx_reply ok', { timeout: TEST_TIMEOUT_MS }, async () => {
  // The server drops sockets that stay silent for 400 ms. The heartbeating socket must outlive
  // that several times over; a silent socket (control) must be dropped.
  const server = await startServer({ args: ['--heartbeat-timeout-ms', '400'] });
  const beating = makeSocket(server.port, { heartbeatIntervalMs: 100, reconnectAfterMs: () => 60_000 });
  const silent = makeSocket(server.port, { heartbeatIntervalMs: 60_000, reconnectAfterMs: () => 60_000 });
  try {
    const sentRefs = new Set();
    const origPush = beating.push.bind(beating);
    beating.push = (data, channel) => {
      if (data.topic === 'phoenix' && data.event === 'heartbeat') sentRefs.add(data.ref);
      return origPush(data, channel);
    };
    let beatingClosed = null;
    beating.onClose((e) => { beatingClosed = e; });

    const wanted = 10; // ~1 s of heartbeats: 2.5x the server's timeout
    const replies = [];
    const enough = deferred();
    beating.onMessage((msg) => {
      if (msg.topic === 'phoenix' && msg.event === 'phx_reply') {
        replies.push(msg);
        if (replies.length >= wanted) enough.resolve();
      }
    });
    const silentClosed = deferred();
    silent.onClose((e) => silentClosed.resolve(e));

    beating.connect();
    silent.connect();
    await withTimeout(enough.promise, 5_000, `${wanted} heartbeat replies`);

    for (const r of replies) {
      assert.deepEqual(r.payload, { status: 'ok', response: {} });
      assert.ok(sentRefs.has(r.ref), `reply ref ${r.ref} answers a heartbeat we sent`);
    }
    assert.equal(new Set(replies.map((r) => r.ref)).size, replies.length, 'one reply per heartbeat');
    assert.equal(beatingClosed, null, `heartbeating socket was closed (code ${beatingClosed?.code})`);
    assert.ok(beating.isConnected());

    // control: the silent socket was closed by the server's heartbeat timeout
    await withTimeout(silentClosed.promise, 3_000, 'server to close the silent socket');
  } finally {
    await Promise.all([disconnect(beating), disconnect(silent)]);
    await server.stop();
  }
});

test('join of an unmatched topic gets error {reason: "unmatched topic"}', { timeout: TEST_TIMEOUT_MS }, async () => {
  const server = await startServer();
  const socket = makeSocket(server.port);
  const channel = socket.channel('nope:x', {});
  try {
    socket.connect();
    const resp = await withTimeout(new Promise((resolve, reject) => {
      channel.join()
        .receive('ok', (r) => reject(new Error(`unexpected ok ${JSON.stringify(r)}`)))
        .receive('error', resolve)
        .receive('timeout', () => reject(new Error('join timeout')));
    }), WAIT_MS, 'join nope:x reply');
    assert.deepEqual(resp, { reason: 'unmatched topic' });
    assert.equal(channel.state, 'errored');
    assert.ok(socket.isConnected(), 'a rejected join does not close the socket');

    // the socket remains usable for a valid topic
    const ok = socket.channel('echo:after-error', {});
    await joinOk(ok);
    assert.deepEqual(await replyOf(ok.push('e', { a: 1 }), 'push after rejected join'), { a: 1 });
  } finally {
    channel.leave(); // stops the client's rejoin timer for the rejected channel
    await disconnect(socket);
    await server.stop();
  }
});
