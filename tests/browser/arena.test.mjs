// End-to-end test of the arena demo: build/bin/roomcast-arena serving its game page, played by
// a desktop-sized and a phone-sized browser in real headless Chromium (Debian's, through
// playwright-core). The page has no test hooks: the test reads the HUD's data-* attributes.
//
// Run: node --test tests/browser/
//   ROOMCAST_ARENA_BIN     server binary (default ../../build/bin/roomcast-arena from this file)
//   CHROMIUM_PATH          browser (default /usr/bin/chromium)
//   ROOMCAST_ARTIFACTS_DIR screenshots (default ../../build/test-artifacts from this file)
//
// Every wait is on a page condition bounded by WAIT_MS, never a sleep; the server and the
// browser are torn down in `after` whatever happened. The whole file is bounded at 60 s
// (before 15 s + test 35 s + after 10 s).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.ROOMCAST_ARENA_BIN || path.resolve(here, '../../build/bin/roomcast-arena');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = process.env.ROOMCAST_ARTIFACTS_DIR || path.resolve(here, '../../build/test-artifacts');
const WAIT_MS = 10_000; // bound for any single page condition or browser action
const START_MS = 10_000;
const STOP_MS = 4_000;

let server; // {proc, port, output()}
let browser;
let base;

// ---------------------------------------------------------------------------------------------
// server process

/** Spawns the server and resolves once it prints its listening line (START_MS at most). */
function startServer() {
  if (!existsSync(BIN)) {
    return Promise.reject(new Error(`roomcast-arena not found at ${BIN} (set ROOMCAST_ARENA_BIN)`));
  }
  const proc = spawn(BIN, ['--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    proc.once('error', (e) => fail(`cannot spawn ${BIN}: ${e.message}`));
    proc.once('exit', (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
      const m = /^listening on http:\/\/([^\s:]+):(\d+)\r?$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({ proc, port: Number(m[2]), output });
    });
  });
}

/** SIGTERM, then SIGKILL if the server is still there after STOP_MS. */
async function stopServer(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, STOP_MS);
  });
  await Promise.race([exited, late]);
  clearTimeout(timer);
  await exited;
}

// ---------------------------------------------------------------------------------------------
// page helpers

async function newPlayer(name, contextOptions) {
  const context = await browser.newContext(contextOptions);
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  watchErrors(page, name);
  return { name, context, page };
}

function watchErrors(page, name) {
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`${name}: ${e.message}`));
}

const byTestId = (page, id) => page.getByTestId(id);

/** The HUD's data-* attributes (state, tick, seat, room, x, y, players, rate, spectator). */
const hud = (page) => byTestId(page, 'hud').evaluate((el) => ({ ...el.dataset }));

/** Waits until `predicate(hud dataset, arg)` holds in the page (the predicate is sent as source). */
async function waitHud(page, predicate, arg = null) {
  const expr = `(() => {
    const el = document.querySelector('[data-testid="hud"]');
    return Boolean(el) && (${predicate.toString()})({ ...el.dataset }, ${JSON.stringify(arg)});
  })()`;
  await page.waitForFunction(expr, null, { timeout: WAIT_MS });
  return hud(page);
}

/** Waits until the HUD's tick is at least `n` ticks past what it is now. */
async function waitTicks(page, n) {
  const { tick } = await hud(page);
  return waitHud(page, (d, a) => d.tick !== '' && Number(d.tick) >= a, Number(tick || 0) + n);
}

async function play({ page, name }) {
  await page.goto(base);
  await byTestId(page, 'name-input').fill(name);
  await byTestId(page, 'play-button').click();
  const d = await waitHud(page, (x) => x.seat !== '' && x.state === 'online' && x.tick !== '');
  await byTestId(page, 'arena-canvas').waitFor({ state: 'visible' });
  assert.equal(await byTestId(page, 'start-screen').isVisible(), false);
  return d;
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM} (set CHROMIUM_PATH)`);
  server = await startServer();
  base = `http://127.0.0.1:${server.port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: WAIT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}, { timeout: 15_000 });

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server) await stopServer(server.proc);
}, { timeout: 10_000 });

test('two players in the arena in headless Chromium', { timeout: 35_000 }, async (t) => {
  await mkdir(ARTIFACTS, { recursive: true });
  const alice = await newPlayer('alice', { viewport: { width: 1200, height: 800 } });
  const bob = await newPlayer('bob', { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const alicePage = alice.page;
  const bobPage = bob.page;
  const pages = [alicePage, bobPage];
  // a subtest's failure does not throw here: stop at the first, as later steps build on it
  const step = async (name, fn) => {
    let failure;
    await t.test(name, async () => {
      try { await fn(); } catch (e) { failure = e; throw e; }
    });
    if (failure) throw failure;
  };
  let seat;
  let room;
  try {
    await step('the start screen renders and refuses a bad name', async () => {
      await alicePage.goto(base);
      for (const id of ['name-input', 'play-button', 'room-input', 'watch-button']) {
        await byTestId(alicePage, id).waitFor({ state: 'visible' });
      }
      assert.equal(await byTestId(alicePage, 'hud').isVisible(), false);
      await byTestId(alicePage, 'name-input').fill('zoë'); // printable ASCII only
      await byTestId(alicePage, 'play-button').click();
      await byTestId(alicePage, 'error-message').filter({ hasText: /\S/ }).waitFor();
      assert.equal(await byTestId(alicePage, 'start-screen').isVisible(), true);
    });

    await step('Play seats the player; the canvas renders and the tick advances', async () => {
      const d = await play(alice);
      seat = d.seat;
      room = d.room;
      assert.match(seat, /^\d+$/);
      assert.match(room, /^\d+$/);
      assert.equal(d.spectator, 'false');
      const box = await byTestId(alicePage, 'arena-canvas').boundingBox();
      assert.ok(box && box.width > 200 && box.height > 200, `canvas is ${JSON.stringify(box)}`);
      await waitTicks(alicePage, 5);
      // 20 snapshots a second: the measured rate gets there (loosely, for a busy machine)
      await waitHud(alicePage, (x) => Number(x.rate) >= 10);
      await byTestId(alicePage, 'scoreboard')
        .locator(`[data-testid="score-row"][data-seat="${seat}"][data-self="true"]`).waitFor();
    });

    await step('holding ArrowRight moves the player right, releasing it stops', async () => {
      const { x: x0, y: y0 } = await hud(alicePage);
      assert.match(x0, /^\d+$/);
      await alicePage.keyboard.down('ArrowRight');
      try {
        await waitHud(alicePage, (x, a) => Number(x.x) >= a, Math.min(1000, Number(x0) + 50));
      } finally {
        await alicePage.keyboard.up('ArrowRight');
      }
      // the release reaches the server within a few ticks; then the player stands still
      const { x: x1, y: y1 } = await waitTicks(alicePage, 4);
      assert.equal(y1, y0, 'no vertical movement');
      const { x: x2 } = await waitTicks(alicePage, 4);
      assert.equal(x2, x1, 'stopped after the key was released');
    });

    await step('a second player on a phone-sized screen joins the same room', async () => {
      const d = await play(bob);
      assert.equal(d.room, room);
      assert.notEqual(d.seat, seat);
      await waitHud(alicePage, (x) => x.players === '2');
      await waitHud(bobPage, (x) => x.players === '2');
      await byTestId(alicePage, 'scoreboard').locator(`[data-testid="score-row"][data-seat="${d.seat}"]`)
        .waitFor();
      // the world fits the phone's screen, HUD and scores included
      const box = await byTestId(bobPage, 'arena-canvas').boundingBox();
      assert.ok(box && box.width > 300 && box.height > 300 && box.x >= 0
        && box.x + box.width <= 390 && box.y + box.height <= 844, `canvas is ${JSON.stringify(box)}`);
      assert.equal(await byTestId(bobPage, 'scoreboard').isVisible(), true);
      await bobPage.screenshot({ path: path.join(ARTIFACTS, 'arena-phone.png') });
    });

    await step('a spectator watches the room; an unknown room is refused', async () => {
      const watcher = await alice.context.newPage(); // sessionStorage is per tab
      watchErrors(watcher, 'watcher');
      pages.push(watcher);
      await watcher.goto(base);
      await byTestId(watcher, 'room-input').fill('999999');
      await byTestId(watcher, 'watch-button').click();
      await byTestId(watcher, 'error-message').filter({ hasText: /\S/ }).waitFor();
      await byTestId(watcher, 'start-screen').waitFor({ state: 'visible' });
      await byTestId(watcher, 'room-input').fill(room);
      await byTestId(watcher, 'watch-button').click();
      const d = await waitHud(watcher, (x) => x.state === 'online' && x.players === '2');
      assert.equal(d.spectator, 'true');
      assert.equal(d.seat, '');
      assert.equal(d.room, room);
      await waitTicks(watcher, 3);
      await watcher.close();
    });

    await step('a reload resumes the same seat in the same room', async () => {
      await alicePage.reload();
      const d = await waitHud(alicePage, (x) => x.state === 'online' && x.seat !== '' && x.tick !== '');
      assert.equal(d.seat, seat);
      assert.equal(d.room, room);
      assert.equal(await byTestId(alicePage, 'start-screen').isVisible(), false);
      await waitHud(alicePage, (x) => x.players === '2' && Number(x.rate) >= 10);
      // bob sees alice back, still connected
      await byTestId(bobPage, 'scoreboard')
        .locator(`[data-testid="score-row"][data-seat="${seat}"][data-connected="true"]`).waitFor();
      await alicePage.screenshot({ path: path.join(ARTIFACTS, 'arena.png') });
    });

    assert.deepEqual(pages.flatMap((p) => p.errors), [], 'uncaught errors in the pages');
  } catch (e) {
    // what the pages showed when it failed, for the artifacts
    await alicePage.screenshot({ path: path.join(ARTIFACTS, 'arena-failure-alice.png') }).catch(() => {});
    await bobPage.screenshot({ path: path.join(ARTIFACTS, 'arena-failure-bob.png') }).catch(() => {});
    if (server) e.message += `\n${server.output()}`;
    throw e;
  } finally {
    await alice.context.close().catch(() => {});
    await bob.context.close().catch(() => {});
  }
});
