// Shared helpers for the real-client tests: spawning build/bin/roomcast and bounded waiting.
//
// ROOMCAST_BIN overrides the binary; it defaults to ../../build/bin/roomcast relative to this file.
// Not a test file itself (node --test only picks up *.test.mjs and friends).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Socket } from 'phoenix';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.ROOMCAST_BIN || path.resolve(here, '../../build/bin/roomcast');
export const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Rejects with a descriptive error if `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise plus its resolve/reject, for turning callbacks into awaitable events. */
export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const liveServers = new Set();

/** SIGKILLs every server this process spawned and that is still running (for `after` hooks). */
export function killAllServers() {
  for (const proc of [...liveServers]) proc.kill('SIGKILL');
}

/**
 * Spawns `roomcast --host 127.0.0.1 --port <port> ...args` and resolves once it prints
 * `listening on http://HOST:PORT`. Rejects (with stdout/stderr) if the process exits first or
 * does not print the line within START_TIMEOUT_MS.
 *
 * Resolves to { port, proc, exited, stop(signal), stderr() }:
 *   exited: promise of {code, signal} when the process exits
 *   stop(): sends SIGTERM (or the given signal), escalates to SIGKILL after STOP_TIMEOUT_MS,
 *           resolves to {code, signal}
 */
export function startServer({ port = 0, args = [] } = {}) {
  if (!existsSync(BIN)) {
    return Promise.reject(new Error(`roomcast binary not found at ${BIN} (set ROOMCAST_BIN)`));
  }
  const proc = spawn(BIN, ['--host', HOST, '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveServers.add(proc);
  let stdout = '';
  let stderr = '';
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      liveServers.delete(proc);
      resolve(exitInfo);
    });
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => { stderr += chunk; });
  proc.stdout.setEncoding('utf8');

  const stop = async (signal = 'SIGTERM') => {
    if (exitInfo) return exitInfo;
    proc.kill(signal);
    let timer;
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, STOP_TIMEOUT_MS);
    });
    await Promise.race([exited, killed]);
    clearTimeout(timer);
    return exited;
  };

  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (msg) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!exitInfo) proc.kill('SIGKILL');
      const err = new Error(`${msg}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
      err.exitInfo = exitInfo;
      reject(err);
    };
    const timer = setTimeout(
      () => fail(`roomcast did not print its listening line within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS);
    proc.once('error', (e) => fail(`cannot spawn ${BIN}: ${e.message}`));
    exited.then(({ code, signal }) =>
      fail(`roomcast exited before listening (code ${code}, signal ${signal})`));
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (done) return;
      const m = /^listening on https?:\/\/([^\s:]+):(\d+)\r?\n/m.exec(stdout);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      resolve({ port: Number(m[2]), proc, exited, stop, stderr: () => stderr });
    });
  });
}

/** startServer on a fixed port, retrying with short backoff while the bind fails. */
export async function startServerOnPort(port, args = [], attempts = 8) {
  let lastErr;
  for (let i = 1; i <= attempts; i++) {
    try {
      return await startServer({ port, args });
    } catch (e) {
      lastErr = e;
      // only a process that exited by itself (e.g. "cannot start: bind") is worth retrying
      if (!e.exitInfo || e.exitInfo.code === 0) throw e;
      await new Promise((r) => setTimeout(r, 50 * i));
    }
  }
  throw lastErr;
}

/** Resolves with the response of a push's `ok` reply; rejects on `error`, `timeout`
 * or after `ms`. */
export function replyOf(push, what, ms = 5_000) {
  return withTimeout(new Promise((resolve, reject) => {
    push
      .receive('ok', resolve)
      .receive('error', (resp) => reject(new Error(`${what}: error reply ${JSON.stringify(resp)}`)))
      .receive('timeout', () => reject(new Error(`${what}: push timeout`)));
  }), ms, what);
}

/**
 * The phoenix sockets of one test file: fail-fast timeouts, fast reconnects, and
 * closeAll() for an after() hook so that no socket outlives the file.
 */
export function socketPool() {
  const live = new Set();
  return {
    /** `scheme`: 'wss' for TLS (pass a `transport` that trusts the test CA). */
    make(port, opts = {}, scheme = 'ws') {
      const socket = new Socket(`${scheme}://${HOST}:${port}/socket`, {
        transport: WebSocket,
        timeout: 3_000, // push/join timeout: fail fast instead of the default 10 s
        reconnectAfterMs: () => 100,
        rejoinAfterMs: () => 100,
        ...opts,
      });
      live.add(socket);
      return socket;
    },
    /** Disconnects and resolves once the transport is closed (bounded by phoenix). */
    disconnect(socket) {
      live.delete(socket);
      return new Promise((resolve) => socket.disconnect(() => resolve()));
    },
    closeAll() {
      for (const socket of [...live]) {
        live.delete(socket);
        socket.disconnect();
      }
    },
  };
}
