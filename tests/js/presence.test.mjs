// Presence through the official npm `phoenix` client: its `Presence` class, attached to an
// observer channel, must show what the server's built-in `presence:*` channel tracks.
//
// Run: cd tests/js && ROOMCAST_BIN=/path/to/roomcast node --test
//
// Every wait is bounded and resolved from events (Presence onSync callbacks, join replies,
// process exits), never from sleeps. Every server, socket and child process is torn down in
// finally blocks, and again in the `after` hook as a safety net.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Presence } from 'phoenix';
import WebSocket from 'ws';
import {
  HOST, withTimeout, deferred, startServer, killAllServers, replyOf, socketPool,
} from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'presence_child.mjs');
const WAIT_MS = 5_000; // bound for any single awaited condition
const TEST_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// helpers

const sockets = socketPool(); // phoenix sockets
const liveRaw = new Set(); // raw ws sockets
const liveChildren = new Set(); // child node processes

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

function makeSocket(port, opts = {}) {
  // a reconnect would re-track its user behind the test's back: keep it out of the way
  const socket = sockets.make(port, {
    reconnectAfterMs: () => 60_000,
    rejoinAfterMs: () => 60_000,
    ...opts,
  });
  // Keep the last frames this socket received, for failure messages.
  socket.frames = [];
  socket.onMessage((msg) => {
    socket.frames.push(msg);
    if (socket.frames.length > 40) socket.frames.shift();
  });
  return socket;
}

/** Disconnects the socket and resolves once the transport is closed. */
const disconnect = (socket) => sockets.disconnect(socket);

/** Resolves with the response of a push's `error` reply; rejects on `ok` or `timeout`. */
function errorOf(push, what) {
  return withTimeout(new Promise((resolve, reject) => {
    push
      .receive('ok', (resp) => reject(new Error(`${what}: unexpected ok ${JSON.stringify(resp)}`)))
      .receive('error', resolve)
      .receive('timeout', () => reject(new Error(`${what}: push timeout`)));
  }), WAIT_MS, what);
}

function joinOk(channel) {
  return replyOf(channel.join(), `join ${channel.topic} ${JSON.stringify(channel.params())}`);
}

/**
 * Attaches a phoenix `Presence` to `channel` (before it joins) and records what it reports.
 *   list():    {key: metas} as Presence.list shows it, keys sorted
 *   users():   sorted keys;  metaCount(): number of metas over all keys
 *   metasOf(key): that key's metas ([] if absent)
 *   joins / leaves: every onJoin / onLeave call, as {key, current, presence} snapshots
 *   waitFor(predicate, what): resolves once predicate() holds, checked now and after every
 *     onSync; rejects after WAIT_MS with the list and the socket's last frames
 */
function watchPresence(channel, socket) {
  const presence = new Presence(channel);
  const joins = [];
  const leaves = [];
  const waiters = new Set();
  let syncs = 0;
  presence.onJoin((key, current, newPres) =>
    joins.push({ key, current: clone(current), presence: clone(newPres) }));
  presence.onLeave((key, current, leftPres) =>
    leaves.push({ key, current: clone(current), presence: clone(leftPres) }));
  presence.onSync(() => {
    syncs++;
    for (const check of [...waiters]) check();
  });

  const list = () => Object.fromEntries(
    presence.list((key, { metas }) => [key, clone(metas)]).sort(([a], [b]) => (a < b ? -1 : 1)));
  const users = () => Object.keys(list());
  const metaCount = () => Object.values(list()).reduce((n, metas) => n + metas.length, 0);
  const metasOf = (key) => list()[key] ?? [];

  function waitFor(predicate, what, ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
      let timer;
      const done = () => { clearTimeout(timer); waiters.delete(check); };
      const check = () => {
        let ok;
        try { ok = predicate(); } catch (e) { done(); reject(e); return; }
        if (ok) { done(); resolve(); }
      };
      timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what} on ${channel.topic}\n` +
          `presence list (${syncs} syncs): ${JSON.stringify(list())}\n` +
          `last frames received:\n${(socket?.frames ?? []).map((f) => JSON.stringify(f)).join('\n')}`));
      }, ms);
      waiters.add(check);
      check();
    });
  }

  return { presence, list, users, metaCount, metasOf, joins, leaves, waitFor };
}

/** The meta without its phx_ref / phx_ref_prev, for comparing the user-supplied part. */
function body(meta) {
  const { phx_ref, phx_ref_prev, ...rest } = meta;
  return rest;
}

/**
 * Runs presence_child.mjs in a separate node process: it joins `topic` with `params` and idles.
 * Resolves to { proc, exited } once the child reports its join was accepted.
 */
async function spawnChildMember(port, topic, params) {
  const proc = spawn(process.execPath,
    [CHILD, `ws://${HOST}:${port}/socket`, topic, JSON.stringify(params)],
    { cwd: here, stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(proc);
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => { liveChildren.delete(proc); resolve({ code, signal }); });
  });
  let stdout = '';
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (c) => { stderr += c; });
  proc.stdout.setEncoding('utf8');
  const line = new Promise((resolve, reject) => {
    proc.stdout.on('data', (c) => {
      stdout += c;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(stdout.slice(0, nl)));
    });
    proc.once('error', reject);
    exited.then(({ code, signal }) =>
      reject(new Error(`child exited early (code ${code}, signal ${signal}); stderr:\n${stderr}`)));
  });
  try {
    const report = await withTimeout(line, WAIT_MS, 'the child process to join');
    assert.deepEqual(report, { joined: true }, `child join; stderr:\n${stderr}`);
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  return { proc, exited };
}

/**
 * A raw `ws` client speaking the v2 serializer by hand: joins `topic` with `params` and resolves
 * once the server's ok reply and presence_state have arrived. Resolves to the WebSocket, whose
 * `frames` array holds every decoded frame it received.
 */
async function rawJoin(port, topic, params) {
  const ws = new WebSocket(`ws://${HOST}:${port}/socket/websocket?vsn=2.0.0`);
  liveRaw.add(ws);
  ws.frames = [];
  const gotReply = deferred();
  const gotState = deferred();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const frame = JSON.parse(data.toString());
    ws.frames.push(frame);
    const [joinRef, ref, t, event, payload] = frame;
    if (t !== topic) return;
    if (event === 'phx_reply' && joinRef === '1' && ref === '1') gotReply.resolve(payload);
    // presence_state carries a null join_ref (one encoding serves every joiner).
    if (event === 'presence_state') gotState.resolve(payload);
  });
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  await withTimeout(opened, WAIT_MS, 'raw websocket open');
  ws.send(JSON.stringify(['1', '1', topic, 'phx_join', params]));
  const reply = await withTimeout(gotReply.promise, WAIT_MS, `raw join reply on ${topic}`);
  assert.deepEqual(reply, { status: 'ok', response: {} }, 'raw join is accepted');
  await withTimeout(gotState.promise, WAIT_MS, `raw presence_state on ${topic}`);
  return ws;
}

/** Drops the TCP connection without a WebSocket close frame and waits for the socket to close. */
function terminate(ws) {
  liveRaw.delete(ws);
  const closed = new Promise((resolve) => ws.once('close', resolve));
  ws.terminate();
  return withTimeout(closed, WAIT_MS, 'raw websocket to close');
}

after(async () => {
  sockets.closeAll();
  for (const ws of [...liveRaw]) { liveRaw.delete(ws); ws.terminate(); }
  for (const proc of [...liveChildren]) proc.kill('SIGKILL');
  killAllServers();
});

// ---------------------------------------------------------------------------------------------
// tests

test('two users, one with two tabs: Presence follows joins, updates, a closed tab and a leave',
  { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startServer();
    const topic = 'presence:lobby';
    const obsSocket = makeSocket(server.port); // alice, tab 1: the observer
    const tab2Socket = makeSocket(server.port); // alice, tab 2
    const bobSocket = makeSocket(server.port);
    try {
      for (const s of [obsSocket, tab2Socket, bobSocket]) s.connect();

      // -- the observer joins as alice (tab1) and sees itself
      const obsChannel = obsSocket.channel(topic, { user: 'alice', device: 'tab1' });
      const obs = watchPresence(obsChannel, obsSocket);
      await joinOk(obsChannel);
      await obs.waitFor(() => obs.users().length === 1, 'the observer to see itself');
      assert.deepEqual(obs.users(), ['alice']);
      const [tab1Meta] = obs.metasOf('alice');
      assert.deepEqual(body(tab1Meta), { device: 'tab1' }, 'meta is the join params minus "user"');
      assert.equal(typeof tab1Meta.phx_ref, 'string');
      assert.ok(tab1Meta.phx_ref.length > 0);
      assert.ok(obs.joins.some((j) => j.key === 'alice'), 'onJoin fired for alice');

      // -- alice's second tab and bob join: 2 users, 3 metas
      const tab2Channel = tab2Socket.channel(topic, { user: 'alice', device: 'tab2' });
      const bobChannel = bobSocket.channel(topic, { user: 'bob', device: 'phone' });
      const bobView = watchPresence(bobChannel, bobSocket); // a second observer
      await joinOk(tab2Channel);
      await joinOk(bobChannel);
      await obs.waitFor(() => obs.users().length === 2 && obs.metaCount() === 3,
        '2 users with 3 metas');
      assert.deepEqual(obs.users(), ['alice', 'bob']);
      assert.deepEqual(obs.metasOf('alice').map(body).sort((a, b) => (a.device < b.device ? -1 : 1)),
        [{ device: 'tab1' }, { device: 'tab2' }]);
      assert.deepEqual(obs.metasOf('bob').map(body), [{ device: 'phone' }]);
      const allRefs = Object.values(obs.list()).flat().map((m) => m.phx_ref);
      assert.equal(new Set(allRefs).size, 3, `phx_refs are distinct: ${allRefs}`);

      const tab2Ref = obs.metasOf('alice').find((m) => m.device === 'tab2').phx_ref;
      const bobRef = obs.metasOf('bob')[0].phx_ref;
      const tab2Join = obs.joins.find((j) =>
        j.key === 'alice' && j.presence.metas.some((m) => m.phx_ref === tab2Ref));
      assert.ok(tab2Join, `onJoin fired for alice's second tab: ${JSON.stringify(obs.joins)}`);
      assert.ok(tab2Join.current?.metas.some((m) => m.phx_ref === tab1Meta.phx_ref),
        'onJoin for the second tab reports alice as already present with tab1');
      const bobJoin = obs.joins.find((j) => j.key === 'bob');
      assert.ok(bobJoin, 'onJoin fired for bob');
      assert.equal(bobJoin.current, undefined, 'bob was not present before');
      assert.deepEqual(bobJoin.presence.metas.map((m) => m.phx_ref), [bobRef]);
      assert.ok(obs.joins.every((j) => j.key === 'alice' || j.key === 'bob'),
        `onJoin keys: ${obs.joins.map((j) => j.key)}`);
      assert.deepEqual(obs.leaves, [], 'no onLeave so far');

      // the late joiner's presence_state holds everyone, itself included
      await bobView.waitFor(() => bobView.metaCount() === 3, 'bob to see 3 metas');
      assert.deepEqual(bobView.list(), obs.list(), "bob's view equals the observer's");

      // -- bob pushes an update: his meta is replaced, with phx_ref_prev
      let leavesBefore = obs.leaves.length;
      assert.deepEqual(await replyOf(bobChannel.push('update', { status: 'away' }), 'push update'), {});
      await obs.waitFor(() => obs.metasOf('bob')[0]?.status === 'away', "bob's updated meta");
      const bobMetas = obs.metasOf('bob');
      assert.equal(bobMetas.length, 1, `bob has one meta after the update: ${JSON.stringify(bobMetas)}`);
      assert.notEqual(bobMetas[0].phx_ref, bobRef, 'the update gets a new phx_ref');
      assert.deepEqual(bobMetas[0], { status: 'away', phx_ref: bobMetas[0].phx_ref, phx_ref_prev: bobRef },
        'the update replaces the meta and names the previous phx_ref');
      assert.equal(obs.metaCount(), 3);
      assert.deepEqual(obs.users(), ['alice', 'bob']);
      const updLeaves = obs.leaves.slice(leavesBefore);
      assert.deepEqual(updLeaves.map((l) => [l.key, l.presence.metas.map((m) => m.phx_ref)]),
        [['bob', [bobRef]]], 'the update leaves the old meta');
      await bobView.waitFor(() => bobView.metasOf('bob')[0]?.status === 'away', 'bob to see his update');

      // -- alice closes her second tab: 2 users, 2 metas
      leavesBefore = obs.leaves.length;
      await disconnect(tab2Socket);
      await obs.waitFor(() => obs.metaCount() === 2, "the closed tab's meta to go away");
      assert.deepEqual(obs.users(), ['alice', 'bob']);
      assert.deepEqual(obs.metasOf('alice').map((m) => m.phx_ref), [tab1Meta.phx_ref]);
      const tabLeaves = obs.leaves.slice(leavesBefore);
      assert.deepEqual(tabLeaves.map((l) => [l.key, l.presence.metas.map((m) => m.phx_ref)]),
        [['alice', [tab2Ref]]], 'onLeave fired for alice with the tab2 meta');
      assert.deepEqual(tabLeaves[0].current.metas.map((m) => m.phx_ref), [tab1Meta.phx_ref],
        'alice is still present with tab1');

      // -- bob leaves the channel: 1 user
      leavesBefore = obs.leaves.length;
      await replyOf(bobChannel.leave(), 'leave');
      await obs.waitFor(() => obs.users().length === 1, 'bob to go away');
      assert.deepEqual(obs.users(), ['alice']);
      assert.equal(obs.metaCount(), 1);
      const bobLeaves = obs.leaves.slice(leavesBefore);
      assert.deepEqual(bobLeaves.map((l) => l.key), ['bob'], 'onLeave fired for bob');
      assert.deepEqual(bobLeaves[0].current.metas, [], 'bob has no metas left');
      assert.equal(bobLeaves[0].presence.metas[0].status, 'away');

      // -- the observer updates itself
      assert.deepEqual(await replyOf(obsChannel.push('update', { status: 'away' }), 'self update'), {});
      await obs.waitFor(() => obs.metasOf('alice')[0]?.status === 'away', "alice's own update");
      const [aliceMeta] = obs.metasOf('alice');
      assert.equal(obs.metasOf('alice').length, 1);
      assert.deepEqual(aliceMeta,
        { status: 'away', phx_ref: aliceMeta.phx_ref, phx_ref_prev: tab1Meta.phx_ref });
      assert.notEqual(aliceMeta.phx_ref, tab1Meta.phx_ref);
    } finally {
      await Promise.all([obsSocket, tab2Socket, bobSocket].map(disconnect));
      await server.stop();
    }
  });

test("a SIGKILLed client process's metas go away", { timeout: TEST_TIMEOUT_MS }, async () => {
  // The default heartbeat timeout is 60 s, so only the dropped TCP connection can explain a
  // leave within WAIT_MS.
  const server = await startServer();
  const topic = 'presence:kill';
  const obsSocket = makeSocket(server.port);
  let child = null;
  try {
    obsSocket.connect();
    const obsChannel = obsSocket.channel(topic, { user: 'alice' });
    const obs = watchPresence(obsChannel, obsSocket);
    await joinOk(obsChannel);

    child = await spawnChildMember(server.port, topic, { user: 'carol', device: 'child' });
    await obs.waitFor(() => obs.metasOf('carol').length === 1, 'the child to be tracked as carol');
    assert.deepEqual(obs.users(), ['alice', 'carol']);
    assert.deepEqual(body(obs.metasOf('carol')[0]), { device: 'child' });
    const carolRef = obs.metasOf('carol')[0].phx_ref;

    child.proc.kill('SIGKILL');
    const exit = await withTimeout(child.exited, WAIT_MS, 'the child to die');
    assert.equal(exit.signal, 'SIGKILL');

    await obs.waitFor(() => !obs.users().includes('carol'), "the killed child's metas to go away");
    assert.deepEqual(obs.users(), ['alice']);
    assert.equal(obs.metaCount(), 1);
    const carolLeaves = obs.leaves.filter((l) => l.key === 'carol');
    assert.equal(carolLeaves.length, 1, 'onLeave fired once for carol');
    assert.deepEqual(carolLeaves[0].presence.metas.map((m) => m.phx_ref), [carolRef]);
    assert.deepEqual(carolLeaves[0].current.metas, []);
  } finally {
    if (child) child.proc.kill('SIGKILL');
    await disconnect(obsSocket);
    await server.stop();
  }
});

test('raw sockets terminated without a close frame are untracked one meta at a time',
  { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startServer();
    const topic = 'presence:raw';
    const obsSocket = makeSocket(server.port);
    const raws = [];
    try {
      obsSocket.connect();
      const obsChannel = obsSocket.channel(topic, { user: 'alice' });
      const obs = watchPresence(obsChannel, obsSocket);
      await joinOk(obsChannel);

      raws.push(await rawJoin(server.port, topic, { user: 'dave', device: 'raw1' }));
      raws.push(await rawJoin(server.port, topic, { user: 'dave', device: 'raw2' }));
      await obs.waitFor(() => obs.metasOf('dave').length === 2, 'dave with two metas');
      assert.deepEqual(obs.metasOf('dave').map(body).map((m) => m.device).sort(), ['raw1', 'raw2']);
      const raw2Ref = obs.metasOf('dave').find((m) => m.device === 'raw2').phx_ref;

      // the first connection vanishes: only its meta goes
      await terminate(raws[0]);
      await obs.waitFor(() => obs.metasOf('dave').length === 1, "raw1's meta to go away");
      assert.deepEqual(obs.metasOf('dave').map((m) => m.phx_ref), [raw2Ref]);
      assert.deepEqual(obs.users(), ['alice', 'dave']);
      assert.deepEqual(obs.leaves.map((l) => l.key), ['dave']);
      assert.deepEqual(body(obs.leaves[0].presence.metas[0]), { device: 'raw1' });

      // the second one vanishes: dave is gone
      await terminate(raws[1]);
      await obs.waitFor(() => !obs.users().includes('dave'), 'dave to go away');
      assert.deepEqual(obs.users(), ['alice']);
      assert.deepEqual(obs.leaves.map((l) => l.key), ['dave', 'dave']);
      assert.deepEqual(obs.leaves[1].current.metas, []);
    } finally {
      for (const ws of raws) { liveRaw.delete(ws); ws.terminate(); }
      await disconnect(obsSocket);
      await server.stop();
    }
  });

test('a join without a usable "user" is refused with "user required" and tracks nothing',
  { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startServer();
    const topic = 'presence:refuse';
    const obsSocket = makeSocket(server.port);
    const other = makeSocket(server.port);
    const refused = [];
    try {
      obsSocket.connect();
      other.connect();
      const obsChannel = obsSocket.channel(topic, { user: 'alice' });
      const obs = watchPresence(obsChannel, obsSocket);
      await joinOk(obsChannel);
      await obs.waitFor(() => obs.users().length === 1, 'the observer to see itself');

      for (const params of [{ device: 'phone' }, { user: '' }, { user: 42 }, {}]) {
        const ch = other.channel(topic, params);
        refused.push(ch);
        const resp = await errorOf(ch.join(), `join with ${JSON.stringify(params)}`);
        assert.deepEqual(resp, { reason: 'user required' }, `refusal of ${JSON.stringify(params)}`);
      }
      assert.ok(other.isConnected(), 'a refused join does not close the socket');

      // the same socket can still join properly; the observer sees only that join
      const ok = other.channel(topic, { user: 'erin' });
      await joinOk(ok);
      await obs.waitFor(() => obs.users().includes('erin'), 'erin to be tracked');
      assert.deepEqual(obs.users(), ['alice', 'erin']);
      assert.equal(obs.metaCount(), 2);
      assert.deepEqual([...new Set(obs.joins.map((j) => j.key))].sort(), ['alice', 'erin']);
      assert.deepEqual(obs.leaves, []);
    } finally {
      for (const ch of refused) ch.leave(); // stops the client's rejoin timers
      await Promise.all([disconnect(obsSocket), disconnect(other)]);
      await server.stop();
    }
  });
