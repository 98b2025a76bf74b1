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
import {
  WAIT_MS, serverBinary, startServer, stopServer, launchChromium, openUser, closeUsers, byTestId,
  watchErrors, assertNoPageErrors, stepper, saveScreenshot, recordFailure,
} from './harness.mjs';

const SERVER = serverBinary('roomcast-arena', 'ROOMCAST_ARENA_BIN');
const STOP_MS = 4_000;

let server; // {proc, port, base, output()}
let browser;
let base;

// ---------------------------------------------------------------------------------------------
// page helpers

const newPlayer = (name, contextOptions) => openUser(browser, name, contextOptions);

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
  browser = await launchChromium();
  server = await startServer(SERVER);
  base = server.base;
}, { timeout: 15_000 });

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server) await stopServer(server, STOP_MS);
}, { timeout: 10_000 });

test('two players in the arena in headless Chromium', { timeout: 35_000 }, async (t) => {
  const alice = await newPlayer('alice', { viewport: { width: 1200, height: 800 } });
  const bob = await newPlayer('bob', { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const alicePage = alice.page;
  const bobPage = bob.page;
  const pages = [alicePage, bobPage];
  const step = stepper(t); // stops at the first failed step: later steps build on it
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
      await saveScreenshot(bobPage, 'arena-phone.png');
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
      await saveScreenshot(alicePage, 'arena.png');
    });

    assertNoPageErrors(pages);
  } catch (e) {
    await recordFailure(e, 'arena', [alice, bob], server);
    throw e;
  } finally {
    await closeUsers([alice, bob]);
  }
});
