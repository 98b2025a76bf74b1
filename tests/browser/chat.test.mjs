// End-to-end test of the chat demo: build/bin/roomcast-chat serving its web UI, driven by two
// users in real headless Chromium (Debian's, through playwright-core).
//
// Run: node --test tests/browser/
//   ROOMCAST_CHAT_BIN      server binary (default ../../build/bin/roomcast-chat from this file)
//   CHROMIUM_PATH          browser (default /usr/bin/chromium)
//   ROOMCAST_ARTIFACTS_DIR screenshots (default ../../build/test-artifacts from this file)
//
// Every wait is on a page condition bounded by WAIT_MS, never a sleep; the server and the
// browser are torn down in `after` whatever happened.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  WAIT_MS, serverBinary, startServer, stopServer, launchChromium, openUser, closeUsers, byTestId,
  assertNoPageErrors, stepper, saveScreenshot, recordFailure,
} from './harness.mjs';

const SERVER = serverBinary('roomcast-chat', 'ROOMCAST_CHAT_BIN');
const ROOM = 'e2e';

let server; // {proc, port, base, output()}
let dataDir;
let browser;
let base;

// ---------------------------------------------------------------------------------------------
// page helpers

// Test instrumentation, injected before the app loads (the app has no test hooks): records the
// page's WebSockets so the test can cut them, and while `block` is set sends new ones to a path
// the server refuses, so phoenix's reconnects fail until the test lets them through.
function wsControl() {
  const Native = window.WebSocket;
  const ctl = { block: false, live: new Set() };
  window.__ws = ctl;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(ctl.block ? String(url).replace('/socket/websocket', '/blocked/websocket') : url, protocols);
      ctl.live.add(this);
      this.addEventListener('close', () => ctl.live.delete(this));
    }
  };
}

const newUser = (name, contextOptions) => openUser(browser, name, contextOptions, wsControl);

const messages = (page) => byTestId(page, 'message');
const message = (page, text) => messages(page).filter({ hasText: text });
const presenceUser = (page, name) => page.locator(`[data-testid="presence-user"][data-user="${name}"]`);

/** Waits until the element's text (or `attr`) equals `expected`. */
async function waitForValue(locator, expected, attr = null) {
  const handle = await locator.elementHandle({ timeout: WAIT_MS });
  await locator.page().waitForFunction(
    ([el, want, a]) => (a ? el.getAttribute(a) : el.textContent.trim()) === want,
    [handle, expected, attr], { timeout: WAIT_MS });
}

async function login({ page, name }) {
  await page.goto(base);
  await byTestId(page, 'login-name').fill(name);
  await byTestId(page, 'login-button').click();
  await waitForValue(byTestId(page, 'current-user'), name);
}

async function joinRoom({ page }, room) {
  const input = byTestId(page, 'room-input');
  // on a phone-sized screen the room list is a panel behind the "Rooms" button
  if (!(await input.isVisible())) await byTestId(page, 'rooms-toggle').click();
  await input.fill(room);
  await byTestId(page, 'room-button').click();
  await waitForValue(byTestId(page, 'current-room'), `#${room}`);
  await waitForValue(byTestId(page, 'connection-state'), 'online', 'data-state');
  // listed and marked current (attached: on a phone the list is folded away after a join)
  await page.locator(`[data-testid="room-item"][data-room="${room}"].current`).waitFor({ state: 'attached' });
}

async function send({ page }, text) {
  await byTestId(page, 'message-input').fill(text);
  await byTestId(page, 'send-button').click();
  await message(page, text).waitFor();
}

async function bodiesOf(page) {
  return page.getByTestId('message-body').allTextContents();
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  browser = await launchChromium();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'roomcast-chat-e2e-'));
  server = await startServer(SERVER, ['--data-dir', dataDir]);
  base = server.base;
}, { timeout: 30_000 });

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server) await stopServer(server, 5_000);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, { timeout: 20_000 });

test('two users chat in headless Chromium', { timeout: 60_000 }, async (t) => {
  const alice = await newUser('alice', { viewport: { width: 1200, height: 800 } });
  const bob = await newUser('bob', { viewport: { width: 390, height: 844 }, hasTouch: true });
  const alicePage = alice.page;
  const bobPage = bob.page;
  const step = stepper(t); // stops at the first failed step: later steps build on it
  try {
    await step('a bad name is refused at login with the error shown', async () => {
      await alicePage.goto(base);
      await byTestId(alicePage, 'login-name').fill('no spaces!');
      await byTestId(alicePage, 'login-button').click();
      await byTestId(alicePage, 'login-error').filter({ hasText: /\S/ }).waitFor();
      assert.equal(await byTestId(alicePage, 'current-user').textContent(), '');
      // the server refuses it too, with the message the page would show
      const res = await alicePage.evaluate(async () => {
        const r = await fetch('/api/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'no spaces!' }),
        });
        return { status: r.status, body: await r.json() };
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_name');
      assert.equal(typeof res.body.message, 'string');
    });

    await step('both log in and join the room', async () => {
      await login(alice);
      await login(bob);
      await joinRoom(alice, ROOM);
      await joinRoom(bob, ROOM);
      await presenceUser(alicePage, 'bob').waitFor();
      await presenceUser(bobPage, 'alice').waitFor();
      await presenceUser(alicePage, 'alice').waitFor();
      assert.equal(await presenceUser(alicePage, 'bob').getAttribute('title'), 'phone');
    });

    await step('a user with two tabs is listed once, with a count', async () => {
      const tab = await alice.context.newPage(); // sessionStorage is per tab: log in again
      await login({ page: tab, name: 'alice' });
      await joinRoom({ page: tab }, ROOM);
      await bobPage.locator('[data-testid="presence-user"][data-user="alice"][data-count="2"]').waitFor();
      assert.equal(await presenceUser(bobPage, 'alice').count(), 1);
      await tab.close();
      await bobPage.locator('[data-testid="presence-user"][data-user="alice"][data-count="1"]').waitFor();
    });

    await step('an empty message cannot be sent', async () => {
      const sendButton = byTestId(alicePage, 'send-button');
      assert.equal(await sendButton.isDisabled(), true);
      await byTestId(alicePage, 'message-input').fill('   \n ');
      assert.equal(await sendButton.isDisabled(), true);
      await byTestId(alicePage, 'message-input').fill('');
    });

    await step('a too long message is refused with the reason shown', async () => {
      await byTestId(alicePage, 'message-input').fill('x'.repeat(5000));
      await byTestId(alicePage, 'send-button').click();
      await byTestId(alicePage, 'send-error').filter({ hasText: /^Not sent: \S/ }).waitFor();
      await byTestId(alicePage, 'message-input').fill('');
    });

    await step('messages go both ways, own ones styled apart', async () => {
      await send(alice, 'hello from alice');
      await message(bobPage, 'hello from alice').waitFor();
      assert.match(await message(alicePage, 'hello from alice').getAttribute('class'), /\bown\b/);
      assert.doesNotMatch(await message(bobPage, 'hello from alice').getAttribute('class'), /\bown\b/);

      // typing shows on the other side before the reply is sent
      await byTestId(bobPage, 'message-input').pressSequentially('hi alice');
      await byTestId(alicePage, 'typing-indicator').filter({ hasText: 'bob is typing' }).waitFor();
      await byTestId(bobPage, 'send-button').click();
      await message(bobPage, 'hi alice').waitFor();
      await message(alicePage, 'hi alice').waitFor();
      // a message from bob ends his "typing"
      await waitForValue(byTestId(alicePage, 'typing-indicator'), '');
      // user data is shown as text
      await send(bob, '<b>not bold</b>');
      await message(alicePage, '<b>not bold</b>').waitFor();
      assert.equal(await message(alicePage, '<b>not bold</b>').locator('b').count(), 0);
    });

    await step('after a reconnect what was missed is back-filled once', async () => {
      await alicePage.evaluate(() => {
        window.__ws.block = true;
        for (const ws of window.__ws.live) ws.close(4000, 'test cuts the connection');
      });
      await alicePage.locator('[data-testid="connection-state"]:not([data-state="online"])').waitFor();
      await presenceUser(bobPage, 'alice').waitFor({ state: 'detached' });
      await send(bob, 'while alice was away');
      await alicePage.evaluate(() => { window.__ws.block = false; });
      await waitForValue(byTestId(alicePage, 'connection-state'), 'online', 'data-state');
      await message(alicePage, 'while alice was away').waitFor();
      await presenceUser(bobPage, 'alice').waitFor();
      assert.deepEqual(await bodiesOf(alicePage),
        ['hello from alice', 'hi alice', '<b>not bold</b>', 'while alice was away']);
      await saveScreenshot(bobPage, 'chat-phone.png');
    });

    await step('bob leaves and alice sees it', async () => {
      await bob.context.close();
      await presenceUser(alicePage, 'bob').waitFor({ state: 'detached' });
    });

    await step('a reload keeps alice logged in with the history back-filled', async () => {
      await alicePage.reload();
      await waitForValue(byTestId(alicePage, 'current-user'), 'alice');
      await waitForValue(byTestId(alicePage, 'current-room'), `#${ROOM}`);
      await message(alicePage, 'while alice was away').waitFor();
      assert.deepEqual(await bodiesOf(alicePage),
        ['hello from alice', 'hi alice', '<b>not bold</b>', 'while alice was away']);
      const seqs = await messages(alicePage).evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'messages in seq order');
      await presenceUser(alicePage, 'alice').waitFor();
      await saveScreenshot(alicePage, 'chat.png');
    });

    assertNoPageErrors([alicePage, bobPage]);
  } catch (e) {
    await recordFailure(e, 'chat', [alice, bob], server);
    throw e;
  } finally {
    await closeUsers([alice, bob]);
  }
});
