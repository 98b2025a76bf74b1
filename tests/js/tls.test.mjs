// wss:// with the official npm `phoenix` client (over `ws`) trusting a test CA made at run time
// by build/bin/roomcast-test-certs (ROOMCAST_TEST_CERTS_BIN): join, push and broadcast over TLS;
// the same client without the CA refuses the server; a plain ws:// socket on the TLS-only port
// gets HTTP 400 "tls_required" while the server keeps serving; with --tls-allow-plain both work.
//
// Run: cd tests/js && ROOMCAST_BIN=... ROOMCAST_TEST_CERTS_BIN=... node --test tls.test.mjs
// Every wait is bounded and resolved from events, never from sleeps.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  HOST, withTimeout, deferred, startServer, killAllServers, replyOf, socketPool,
} from './server.mjs';

const WAIT_MS = 5_000;
const TEST_TIMEOUT_MS = 15_000;
const here = path.dirname(fileURLToPath(import.meta.url));
const CERTS_BIN = process.env.ROOMCAST_TEST_CERTS_BIN
  || path.resolve(here, '../../build/bin/roomcast-test-certs');

const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-js-tls-'));
if (!existsSync(CERTS_BIN)) throw new Error(`roomcast-test-certs not found at ${CERTS_BIN}`);
execFileSync(CERTS_BIN, [dir]);
const CA = readFileSync(path.join(dir, 'ca.pem'));
const TLS_ARGS = ['--tls-cert', path.join(dir, 'server.pem'), '--tls-key', path.join(dir, 'server-key.pem')];

const sockets = socketPool();
after(() => {
  sockets.closeAll();
  killAllServers();
  rmSync(dir, { recursive: true, force: true });
});

/** A `ws` WebSocket that trusts only the test CA (phoenix constructs it with url, protocols). */
class TrustingWebSocket extends WebSocket {
  constructor(url, protocols) { super(url, protocols, { ca: CA }); }
}

/** Connects a phoenix socket and resolves with it once open; rejects on a socket error. */
async function connected(port, opts, scheme) {
  const socket = sockets.make(port, opts, scheme);
  const opened = deferred();
  socket.onOpen(() => opened.resolve());
  socket.onError((e) => opened.reject(new Error(`socket error: ${e?.message ?? e}`)));
  socket.connect();
  await withTimeout(opened.promise, WAIT_MS, 'socket open');
  return socket;
}

/** Joins, pushes "shout" and resolves with the broadcast that comes back. */
async function roundTrip(socket, topic) {
  const channel = socket.channel(topic, {});
  await replyOf(channel.join(), `join ${topic}`);
  const got = deferred();
  channel.on('shout', (payload) => got.resolve(payload));
  await replyOf(channel.push('shout', { over: 'tls' }), 'push shout');
  return withTimeout(got.promise, WAIT_MS, 'shout broadcast');
}

/** One upgrade attempt with `ws` directly; resolves to 'open', or the HTTP status, or the error. */
function attempt(url, options = {}) {
  return withTimeout(new Promise((resolve) => {
    const ws = new WebSocket(url, options);
    ws.on('open', () => { ws.close(); resolve('open'); });
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    ws.on('error', (e) => resolve({ error: e.code ?? e.message }));
  }), WAIT_MS, `upgrade ${url}`);
}

test('phoenix client over wss:// trusting the test CA', { timeout: TEST_TIMEOUT_MS }, async () => {
  const srv = await startServer({ args: TLS_ARGS });
  try {
    const socket = await connected(srv.port, { transport: TrustingWebSocket }, 'wss');
    assert.deepEqual(await roundTrip(socket, 'echo:tls'), { over: 'tls' });
    await sockets.disconnect(socket);
  } finally {
    await srv.stop();
  }
});

test('without the CA the client refuses the certificate', { timeout: TEST_TIMEOUT_MS }, async () => {
  const srv = await startServer({ args: TLS_ARGS });
  try {
    const refused = await attempt(`wss://${HOST}:${srv.port}/socket/websocket?vsn=2.0.0`);
    assert.ok(refused.error && /CERT|SIGNED|ISSUER|VERIFY/.test(refused.error), JSON.stringify(refused));
    assert.equal(await attempt(`wss://${HOST}:${srv.port}/socket/websocket?vsn=2.0.0`, { ca: CA }), 'open');
  } finally {
    await srv.stop();
  }
});

test('plain ws:// on the TLS-only port: 400 tls_required, server keeps serving', { timeout: TEST_TIMEOUT_MS }, async () => {
  const srv = await startServer({ args: TLS_ARGS });
  try {
    const plain = await attempt(`ws://${HOST}:${srv.port}/socket/websocket?vsn=2.0.0`);
    assert.equal(plain.status, 400, JSON.stringify(plain));
    assert.equal(JSON.parse(plain.body).error, 'tls_required');
    const socket = await connected(srv.port, { transport: TrustingWebSocket }, 'wss');
    assert.deepEqual(await roundTrip(socket, 'echo:after-plain'), { over: 'tls' });
    await sockets.disconnect(socket);
  } finally {
    await srv.stop();
  }
});

test('--tls-allow-plain serves ws:// and wss:// on one port', { timeout: TEST_TIMEOUT_MS }, async () => {
  const srv = await startServer({ args: [...TLS_ARGS, '--tls-allow-plain'] });
  try {
    const secure = await connected(srv.port, { transport: TrustingWebSocket }, 'wss');
    const plain = await connected(srv.port, {}, 'ws');
    assert.deepEqual(await roundTrip(secure, 'echo:both'), { over: 'tls' });
    assert.deepEqual(await roundTrip(plain, 'echo:both-plain'), { over: 'tls' });
    await sockets.disconnect(secure);
    await sockets.disconnect(plain);
  } finally {
    await srv.stop();
  }
});
