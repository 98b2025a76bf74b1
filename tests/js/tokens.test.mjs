// JWT authentication at connect, through the official npm `phoenix` client (over `ws`).
//
// Run: cd tests/js && ROOMCAST_BIN=/path/to/roomcast node --test tokens.test.mjs
// ROOMCAST_BIN defaults to ../../build/bin/roomcast relative to this file.
//
// Every server runs with `--token-algorithm HS256 --token-secret SECRET`: the upgrade carries a
// JWT in the connect params (`?token=`) or in phoenix.js's `authToken` option (subprotocol
// `base64url.bearer.phx.<base64>`); refusals are HTTP 401 {"error":"unauthorized","message"}.
// Tokens are made here with node's crypto (HMAC-SHA256), no JWT package.
// Every wait is bounded and resolved from events (replies, socket callbacks, HTTP responses),
// never from sleeps. Servers and sockets are torn down in finally blocks, and again in the
// `after` hook as a safety net.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  HOST, withTimeout, deferred, startServer, killAllServers, replyOf, socketPool,
} from './server.mjs';

const WAIT_MS = 5_000; // bound for any single awaited event
const EXPIRY_WAIT_MS = 8_000; // bound for the server's expiry close (token lives ~2-3 s)
const TEST_TIMEOUT_MS = 15_000;
const SECRET = 'tokens-test-secret';
const API_KEY = 'tokens-test-key';
const NO_RECONNECT = () => 60_000; // for sockets whose close the test wants to observe as final

// ---------------------------------------------------------------------------------------------
// helpers (server spawning lives in ./server.mjs)

const sockets = socketPool();
const makeSocket = (port, opts) => sockets.make(port, opts);
const disconnect = (socket) => sockets.disconnect(socket);

const nowS = () => Math.floor(Date.now() / 1000);
const b64url = (text) => Buffer.from(text).toString('base64url');

/** A signed JWT: HS256 by default; `alg` HS384/HS512 sign with the matching HMAC. */
function makeToken(claims, { secret = SECRET, alg = 'HS256' } = {}) {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claims));
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const signature = createHmac(hash, secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** A token valid for an hour (unless `claims` says otherwise). */
const validToken = (sub, claims = {}) => makeToken({ sub, exp: nowS() + 3600, ...claims });

function tokenServer(extra = []) {
  return startServer({ args: ['--token-algorithm', 'HS256', '--token-secret', SECRET, ...extra] });
}

function joinOk(channel) {
  return replyOf(channel.join(), `join ${channel.topic}`);
}

/** Connects a socket and resolves with it once it is open. */
async function connected(port, opts) {
  const socket = makeSocket(port, opts);
  const opened = deferred();
  socket.onOpen(() => opened.resolve());
  socket.onError((e) => opened.reject(new Error(`socket error before open: ${errorText(e)}`)));
  socket.connect();
  await withTimeout(opened.promise, WAIT_MS, 'socket open');
  return socket;
}

/** The message of a ws error event as phoenix passes it to onError. */
function errorText(e) {
  return String(e?.message ?? e?.error?.message ?? e);
}

/**
 * A WebSocket upgrade by hand with node's http module; resolves to {status, body} (body parsed
 * as JSON when the server refuses) or {status: 101, protocol} when it switches protocols.
 */
function rawUpgrade(port, token, headers = {}) {
  const query = token === undefined ? '' : `&token=${encodeURIComponent(token)}`;
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({
      host: HOST,
      port,
      path: `/socket/websocket?vsn=2.0.0${query}`,
      agent: false,
      headers: {
        Upgrade: 'websocket',
        Connection: 'Upgrade',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, protocol: res.headers['sec-websocket-protocol'] });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        let body = text;
        try { body = JSON.parse(text); } catch { /* keep the text for the assertion message */ }
        resolve({ status: res.statusCode, contentType: res.headers['content-type'], body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  }), WAIT_MS, 'raw upgrade response');
}

/** POST /api/disconnect {"user": user} with the API key; resolves to {status, body}. */
async function apiDisconnect(port, user) {
  const res = await withTimeout(fetch(`http://${HOST}:${port}/api/disconnect`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ user }),
  }), WAIT_MS, 'POST /api/disconnect');
  return { status: res.status, body: await withTimeout(res.json(), WAIT_MS, 'disconnect body') };
}

after(async () => {
  sockets.closeAll();
  killAllServers();
});

// ---------------------------------------------------------------------------------------------
// tests

test('a valid token in the connect params: join echo:x and push ok', { timeout: TEST_TIMEOUT_MS }, async () => {
  const server = await tokenServer();
  const socket = makeSocket(server.port, { params: { token: validToken('alice') } });
  try {
    socket.connect();
    const channel = socket.channel('echo:x', {});
    assert.deepEqual(await joinOk(channel), {});
    assert.equal(channel.state, 'joined');
    const payload = { text: 'hello', n: 1 };
    assert.deepEqual(await replyOf(channel.push('say', payload), 'push say'), payload);
  } finally {
    await disconnect(socket);
    await server.stop();
  }
});

test('a valid token via phoenix\'s authToken option (no params token): join ok', { timeout: TEST_TIMEOUT_MS }, async () => {
  const server = await tokenServer(['--api-key', API_KEY]);
  const socket = makeSocket(server.port, { authToken: validToken('dave') });
  try {
    socket.connect();
    const channel = socket.channel('echo:auth-token', {});
    assert.deepEqual(await joinOk(channel), {});
    assert.equal(socket.conn.protocol, 'phoenix', 'the server answers the "phoenix" subprotocol');
    assert.ok(!socket.endPointURL().includes('token='), 'no token in the URL');
    assert.deepEqual(await replyOf(channel.push('say', { a: 1 }), 'push say'), { a: 1 });
    // the token's sub became the socket's user id
    assert.deepEqual(await apiDisconnect(server.port, 'dave'), { status: 200, body: { disconnected: 1 } });
  } finally {
    await disconnect(socket);
    await server.stop();
  }
});

test('a wrong-secret or expired token: the socket never opens, the upgrade is refused with 401', { timeout: TEST_TIMEOUT_MS }, async () => {
  const AUD = 'roomcast-test';
  const ISS = 'https://auth.test';
  const server = await tokenServer(['--token-audience', AUD, '--token-issuer', ISS]);
  const good = { aud: AUD, iss: ISS }; // the claims the server requires, so each case fails for one reason
  const wrongSecret = makeToken({ sub: 'alice', exp: nowS() + 3600, ...good }, { secret: 'not-the-secret' });
  const expired = makeToken({ sub: 'alice', exp: nowS() - 60, ...good });
  const live = [];
  try {
    // Through phoenix: the refused upgrade surfaces as onError (ws: "Unexpected server response:
    // 401") then onClose; the socket never opens and the join never gets a reply.
    for (const [name, token] of [['wrong secret', wrongSecret], ['expired', expired]]) {
      const socket = makeSocket(server.port, { params: { token }, reconnectAfterMs: NO_RECONNECT });
      live.push(socket);
      let opens = 0;
      const errors = [];
      const closed = deferred();
      socket.onOpen(() => { opens++; });
      socket.onError((e) => errors.push(errorText(e)));
      socket.onClose((e) => closed.resolve(e));
      const channel = socket.channel('echo:x', {});
      let joinReplies = 0;
      channel.join().receive('ok', () => { joinReplies++; }).receive('error', () => { joinReplies++; });
      socket.connect();
      const closeEvent = await withTimeout(closed.promise, WAIT_MS, `close of the ${name}-token socket`);
      assert.equal(opens, 0, `${name}: the socket never opened`);
      assert.ok(!socket.isConnected(), `${name}: not connected`);
      assert.equal(closeEvent.code, 1006, `${name}: abnormal close (no WebSocket handshake)`);
      assert.equal(errors.length, 1, `${name}: one transport error`);
      assert.match(errors[0], /401/, `${name}: the error names the 401`);
      assert.equal(joinReplies, 0, `${name}: no join reply`);
      assert.notEqual(channel.state, 'joined', `${name}: channel not joined`);
    }

    // The same refusals by hand, with their reason.
    const refusal = (message) => ({ status: 401, body: { error: 'unauthorized', message } });
    const cases = [
      ['wrong secret', wrongSecret, 'invalid token'],
      ['expired', expired, 'token expired'],
      ['no token', undefined, 'missing token'],
      ['not a JWT', 'not-a-jwt', 'invalid token'],
      ['HS512 with the right secret', makeToken({ sub: 'a', ...good }, { alg: 'HS512' }), 'invalid token: algorithm not allowed'],
      ['nbf in the future', makeToken({ sub: 'a', nbf: nowS() + 3600, ...good }), 'token not yet valid'],
      ['another audience', makeToken({ sub: 'a', aud: 'other', iss: ISS }), 'token audience mismatch'],
      ['another issuer', makeToken({ sub: 'a', aud: AUD, iss: 'https://evil.test' }), 'token issuer mismatch'],
    ];
    for (const [name, token, message] of cases) {
      const { contentType, ...res } = await rawUpgrade(server.port, token);
      assert.deepEqual(res, refusal(message), name);
      assert.match(contentType ?? '', /application\/json/, `${name}: JSON body`);
    }
    // an expired token in the authToken subprotocol is refused just the same
    const bearer = `base64url.bearer.phx.${Buffer.from(expired).toString('base64').replace(/=/g, '')}`;
    const { contentType: _ct, ...viaProtocol } = await rawUpgrade(server.port, undefined, { 'Sec-WebSocket-Protocol': `phoenix, ${bearer}` });
    assert.deepEqual(viaProtocol, refusal('token expired'), 'expired token via subprotocol');
    // control: the same request with a valid token switches protocols
    assert.deepEqual(await rawUpgrade(server.port, validToken('alice', good)), { status: 101, protocol: undefined });
  } finally {
    await Promise.all(live.map(disconnect));
    await server.stop();
  }
});

test('expiry while connected: closed with 1008 "token expired", then reconnect and rejoin with a fresh token', { timeout: TEST_TIMEOUT_MS }, async () => {
  const server = await tokenServer();
  // exp is in whole seconds: the first token expires 1-2 s from now
  const firstExp = nowS() + 2;
  let currentToken = makeToken({ sub: 'carol', exp: firstExp });
  const socket = makeSocket(server.port, { params: () => ({ token: currentToken }) });
  try {
    const closes = [];
    const firstClose = deferred();
    socket.onClose((e) => { closes.push({ code: e.code, reason: e.reason, at: Date.now() }); firstClose.resolve(); });
    const errors = [];
    socket.onError((e) => errors.push(errorText(e)));
    let opens = 0;
    socket.onOpen(() => { opens++; });

    const channel = socket.channel('echo:expiring', {});
    let joins = 0;
    let joinWaiter = deferred();
    channel.join()
      .receive('ok', () => { joins++; joinWaiter.resolve(); })
      .receive('error', (resp) => joinWaiter.reject(new Error(`join error ${JSON.stringify(resp)}`)));
    socket.connect();
    await withTimeout(joinWaiter.promise, WAIT_MS, 'first join of echo:expiring');
    assert.deepEqual(await replyOf(channel.push('ping', { n: 1 }), 'push with the first token'), { n: 1 });

    // The client refreshes its token; phoenix reads params() again when it reconnects.
    joinWaiter = deferred();
    currentToken = makeToken({ sub: 'carol', exp: nowS() + 3600 });
    await withTimeout(firstClose.promise, EXPIRY_WAIT_MS, 'the server to close the socket at token expiry');
    assert.deepEqual(closes.map(({ code, reason }) => ({ code, reason })), [{ code: 1008, reason: 'token expired' }]);
    assert.ok(closes[0].at >= firstExp * 1000,
      `closed ${firstExp * 1000 - closes[0].at} ms before the token's exp`);

    await withTimeout(joinWaiter.promise, WAIT_MS, 'automatic rejoin of echo:expiring with the fresh token');
    assert.equal(joins, 2);
    assert.equal(opens, 2, 'one reconnect');
    assert.deepEqual(errors, [], 'the reconnect with the fresh token was not refused');
    assert.ok(socket.endPointURL().includes(`token=${currentToken}`), 'the reconnect carries the fresh token');
    assert.equal(channel.state, 'joined');
    assert.deepEqual(await replyOf(channel.push('ping', { n: 2 }), 'push after the rejoin'), { n: 2 });
    assert.equal(closes.length, 1, 'no further close');
  } finally {
    await disconnect(socket);
    await server.stop();
  }
});

test('POST /api/disconnect {user} closes that user\'s sockets only', { timeout: TEST_TIMEOUT_MS }, async () => {
  const server = await tokenServer(['--api-key', API_KEY]);
  const live = [];
  try {
    // alice's sockets do not reconnect, so that their close is final and observable
    const alice1 = await connected(server.port, { params: { token: validToken('alice') }, reconnectAfterMs: NO_RECONNECT });
    live.push(alice1);
    const alice2 = await connected(server.port, { params: { token: validToken('alice') }, reconnectAfterMs: NO_RECONNECT });
    live.push(alice2);
    const bob = await connected(server.port, { params: { token: validToken('bob') } });
    live.push(bob);
    const bobChannel = bob.channel('echo:room', {});
    await joinOk(bobChannel);
    let bobClosed = null;
    bob.onClose((e) => { bobClosed = e; });

    const aliceClosed = [alice1, alice2].map((s) => {
      const d = deferred();
      s.onClose((e) => d.resolve(e));
      return d.promise;
    });
    assert.deepEqual(await apiDisconnect(server.port, 'alice'), { status: 200, body: { disconnected: 2 } });
    const events = await withTimeout(Promise.all(aliceClosed), WAIT_MS, 'both alice sockets to close');
    assert.deepEqual(events.map((e) => ({ code: e.code, reason: e.reason })),
      [1, 2].map(() => ({ code: 1000, reason: 'disconnected by server' })));
    assert.ok(!alice1.isConnected() && !alice2.isConnected(), 'alice is disconnected');

    // bob is untouched: a push still round-trips on the same connection
    assert.deepEqual(await replyOf(bobChannel.push('ping', { still: 'here' }), 'bob push'), { still: 'here' });
    assert.equal(bobClosed, null, `bob's socket was closed (code ${bobClosed?.code})`);
    assert.ok(bob.isConnected());
    assert.deepEqual(await apiDisconnect(server.port, 'nobody'), { status: 200, body: { disconnected: 0 } });
  } finally {
    await Promise.all(live.map(disconnect));
    await server.stop();
  }
});
