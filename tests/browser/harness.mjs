// Shared harness of the browser tests (chat, arena): the demo server's process, Debian's
// chromium through playwright-core, screenshots and page errors. Not a test file itself
// (node --test only picks up *.test.mjs and friends).
//
//   CHROMIUM_PATH          browser (default /usr/bin/chromium)
//   ROOMCAST_ARTIFACTS_DIR screenshots (default ../../build/test-artifacts from this file)
//
// Self-contained on purpose: tests/js/server.mjs spawns only build/bin/roomcast and imports
// phoenix and ws from tests/js/node_modules, which the browser tests must not depend on.
// Every wait here is bounded (START_MS, the stop grace, WAIT_MS); there are no sleeps.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = process.env.ROOMCAST_ARTIFACTS_DIR || path.resolve(here, '../../build/test-artifacts');
export const WAIT_MS = 10_000; // bound for any single page condition or browser action
const START_MS = 10_000;
const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------
// server process

/** The demo server `name` in build/bin, unless the environment variable `envVar` names another. */
export function serverBinary(name, envVar) {
  return { name, envVar, path: process.env[envVar] || path.resolve(here, '../../build/bin', name) };
}

/**
 * Spawns `<binary> --host 127.0.0.1 --port 0 ...args` and resolves once it prints its
 * `listening on http://HOST:PORT` line (START_MS at most) to { proc, port, base, output() }:
 * base is the page URL, output() the server's stdout and stderr so far. Rejects with that
 * output if the process cannot start, exits first or stays silent.
 */
export function startServer(binary, args = []) {
  if (!existsSync(binary.path)) {
    return Promise.reject(new Error(`${binary.name} not found at ${binary.path} (set ${binary.envVar})`));
  }
  const proc = spawn(binary.path, ['--host', HOST, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (c) => { stderr += c; });
  const output = () => `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
  return new Promise((resolve, reject) => {
    const fail = (msg) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${msg}\n${output()}`));
    };
    const timer = setTimeout(() => fail(`no listening line within ${START_MS} ms`), START_MS);
    proc.once('error', (e) => fail(`cannot spawn ${binary.path}: ${e.message}`));
    proc.once('exit', (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
      const m = /^listening on http:\/\/([^\s:]+):(\d+)\r?$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      const port = Number(m[2]);
      resolve({ proc, port, base: `http://${HOST}:${port}/`, output });
    });
  });
}

/** SIGTERM, then SIGKILL if the server is still there after `graceMs`; resolves once it exited. */
export async function stopServer({ proc }, graceMs = 5_000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, graceMs);
  });
  await Promise.race([exited, late]);
  clearTimeout(timer);
  await exited;
}

// ---------------------------------------------------------------------------------------------
// browser and pages

/** Launches headless chromium from CHROMIUM_PATH; fails at once if there is none. */
export function launchChromium() {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM} (set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: WAIT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Collects the page's uncaught errors, each prefixed by `name`, in `page.errors`. */
export function watchErrors(page, name) {
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`${name}: ${e.message}`));
}

/**
 * A user of its own browser context (WAIT_MS as the default timeout) with one page whose
 * errors are watched; `initScript`, if given, runs in every page before the app loads.
 * Resolves to { name, context, page }.
 */
export async function openUser(browser, name, contextOptions, initScript = null) {
  const context = await browser.newContext(contextOptions);
  context.setDefaultTimeout(WAIT_MS);
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  watchErrors(page, name);
  return { name, context, page };
}

/** Closes the users' contexts, ignoring those already closed. */
export async function closeUsers(users) {
  for (const { context } of users) await context.close().catch(() => {});
}

export const byTestId = (page, id) => page.getByTestId(id);

/** Fails with the uncaught errors of `pages` if there were any. */
export function assertNoPageErrors(pages) {
  assert.deepEqual(pages.flatMap((p) => p.errors), [], 'uncaught errors in the pages');
}

// ---------------------------------------------------------------------------------------------
// test flow and artifacts

/**
 * Returns step(name, fn), which runs fn as a subtest of `t` and rethrows its failure: a
 * subtest's failure does not throw by itself, and later steps build on the earlier ones.
 */
export function stepper(t) {
  return async (name, fn) => {
    let failure;
    await t.test(name, async () => {
      try { await fn(); } catch (e) { failure = e; throw e; }
    });
    if (failure) throw failure;
  };
}

/** Saves a screenshot of `page` as ARTIFACTS/`file`. */
export async function saveScreenshot(page, file) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, file) });
}

/**
 * For a failed test: saves what each user's page showed as `<prefix>-failure-<name>.png`
 * (best effort) and appends the server's output to the error's message.
 */
export async function recordFailure(error, prefix, users, server) {
  for (const { name, page } of users) {
    await saveScreenshot(page, `${prefix}-failure-${name}.png`).catch(() => {});
  }
  if (server && error instanceof Error) error.message += `\n${server.output()}`;
}
