// Roomcast arena, browser side: talks to roomcast-arena (same origin) over Phoenix Channels v2
// with the official `phoenix` client. The server is authoritative: the page sends only the
// direction held ("input" {dx, dy}, when it changes) and draws the snapshots the room
// broadcasts every tick (binary "state" events), interpolating between the last two.
// User data is only ever put in the page as text (textContent), never as HTML.
//
// What the page shows is also in DOM attributes (the HUD's data-*), so that a test can follow
// the game without any test-only code path.
import { Socket } from 'phoenix';
import { byId, h } from '../../../web-common/dom.js';

const STORE_KEY = 'roomcast-arena'; // sessionStorage: {room, seat_token, name} or {room, spectate}
const NAME_RE = /^[\x20-\x7e]{1,16}$/; // the server's rule: 1-16 printable ASCII characters
const ROOM_RE = /^[0-9]{1,19}$/;
const INPUT_TIMEOUT_MS = 1_000; // inputs get no reply: forget them soon
const RATE_WINDOW_MS = 1_000; // the snapshot rate is counted over this
const HUD_REFRESH_MS = 250;
const TELEPORT = 150; // world units: a jump this long between snapshots is not interpolated
const PLAYER_RADIUS = 20; // world units (the server's pickup radius is 30)
const COIN_RADIUS = 9;
const STATE_LABELS = { connecting: 'Connecting…', online: 'Online', reconnecting: 'Reconnecting…' };
const JOIN_ERRORS = {
  seat_expired: 'You were away too long: your seat was given up.',
  room_ended: 'That game has ended.',
  invalid_seat_token: 'Your seat is no longer valid.',
  no_such_room: 'There is no such room.',
};

const ui = {
  startView: document.getElementById('start-view'),
  gameView: document.getElementById('game-view'),
  playForm: document.getElementById('play-form'),
  watchForm: document.getElementById('watch-form'),
  name: byId('name-input'),
  play: byId('play-button'),
  room: byId('room-input'),
  watch: byId('watch-button'),
  error: byId('error-message'),
  hud: byId('hud'),
  hudState: byId('hud-state'),
  hudRoom: byId('hud-room'),
  hudSeatLabel: byId('hud-seat-label'),
  hudSeat: byId('hud-seat'),
  hudTick: byId('hud-tick'),
  hudRate: byId('hud-rate'),
  leave: byId('leave-button'),
  stage: document.getElementById('stage'),
  canvas: byId('arena-canvas'),
  banner: byId('banner'),
  pad: byId('touch-pad'),
  scores: byId('scoreboard'),
};
const ctx = ui.canvas.getContext('2d');

const colorOf = (seat) => `hsl(${Math.round((seat * 137.508 + 200) % 360)} 75% 58%)`;
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

// ---------------------------------------------------------------------------------------------
// session (survives a reload of this tab, not a new tab)

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORE_KEY));
    if (!s || typeof s.room !== 'string' || !ROOM_RE.test(s.room)) return null;
    if (s.spectate === true) return { room: s.room, spectate: true };
    if (typeof s.seat_token !== 'string' || s.seat_token === '') return null;
    return { room: s.room, seat_token: s.seat_token, name: typeof s.name === 'string' ? s.name : '' };
  } catch {
    return null;
  }
}

function saveSession(s) {
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(s));
  } catch {
    // private mode and the like: the game works, a reload just starts over
  }
}

function clearSession() {
  try {
    sessionStorage.removeItem(STORE_KEY);
  } catch {
    // as above
  }
}

// ---------------------------------------------------------------------------------------------
// connection

let socket = null;

function ensureSocket() {
  if (socket) return socket;
  const s = new Socket('/socket', {});
  socket = s;
  // "online" comes with the room's join reply (phoenix rejoins the room by itself on open)
  s.onClose(() => {
    if (s !== socket) return;
    if (game) {
      game.joined = false;
      setConn(game.wasOnline ? 'reconnecting' : 'connecting');
    }
  });
  s.connect();
  return s;
}

function dropSocket() {
  if (!socket) return;
  const s = socket;
  socket = null; // its callbacks see they are stale
  s.disconnect();
}

function setConn(state) {
  ui.hud.dataset.state = state;
  ui.hudState.textContent = STATE_LABELS[state];
  renderBanner();
}

// ---------------------------------------------------------------------------------------------
// start screen

let finding = null; // the lobby channel while a seat is being reserved

ui.playForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (finding || game) return;
  const name = ui.name.value.trim();
  if (name !== '' && !NAME_RE.test(name)) {
    showError('A name is 1-16 printable characters (letters, digits, spaces, punctuation).');
    return;
  }
  showError('');
  setBusy(true, 'Finding a room…');
  const lobby = ensureSocket().channel('arena:lobby', {});
  finding = lobby;
  const fail = (text) => {
    if (finding !== lobby) return;
    finding = null;
    lobby.leave();
    dropSocket();
    setBusy(false);
    showError(text);
  };
  lobby.join()
    .receive('ok', (resp) => {
      if (finding !== lobby) return;
      const room = resp && resp.room !== undefined ? String(resp.room) : '';
      if (!ROOM_RE.test(room) || typeof resp.seat_token !== 'string') {
        fail('The server sent an unexpected answer.');
        return;
      }
      finding = null;
      lobby.leave(); // the reservation is ours; the lobby has nothing more to say
      setBusy(false);
      startGame({ room, seat_token: resp.seat_token, name });
    })
    .receive('error', (resp) => fail(`No room available: ${(resp && resp.reason) || 'refused'}`))
    .receive('timeout', () => fail('No answer from the server, try again.'));
});

ui.watchForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (finding || game) return;
  const room = ui.room.value.trim().replace(/^arena:/, '');
  if (!ROOM_RE.test(room)) {
    showError('A room id is a number, such as 1.');
    return;
  }
  showError('');
  startGame({ room, spectate: true });
});

function showError(text) {
  ui.error.textContent = text;
}

function setBusy(busy, label) {
  ui.play.disabled = busy;
  ui.watch.disabled = busy;
  ui.play.textContent = busy ? label : 'Play';
}

function showStart(message = '') {
  ui.gameView.hidden = true;
  ui.startView.hidden = false;
  document.body.classList.remove('spectating');
  showError(message);
  setBusy(false);
  ui.name.focus();
}

// ---------------------------------------------------------------------------------------------
// the game

// {room, topic, spectator, token, name, channel, joined, seat, world, tickMs, roster: Map,
//  prev, last (snapshots), rateTimes, sent (last input pushed), scoresKey}
let game = null;

function startGame(s) {
  stopGame();
  saveSession(s);
  const g = {
    room: s.room,
    topic: `arena:${s.room}`,
    spectator: Boolean(s.spectate),
    token: s.seat_token,
    name: s.name || '',
    joined: false,
    wasOnline: false, // joined once: a drop is then a reconnect
    seat: null,
    world: 1000,
    tickMs: 50,
    roster: new Map(),
    prev: null,
    last: null,
    rateTimes: [], // arrival times of the snapshots of the last RATE_WINDOW_MS
    rateSince: null, // the first snapshot's arrival
    sent: null,
    scoresKey: '',
  };
  game = g;
  ui.startView.hidden = true;
  ui.gameView.hidden = false;
  document.body.classList.toggle('spectating', g.spectator);
  ui.hudSeatLabel.textContent = g.spectator ? 'watching' : 'seat';
  Object.assign(ui.hud.dataset, {
    room: g.room, seat: '', tick: '', x: '', y: '', players: '0', rate: '0',
    spectator: String(g.spectator),
  });
  ui.hudRoom.textContent = g.room;
  ui.hudSeat.textContent = g.spectator ? '—' : '';
  ui.hudTick.textContent = '';
  ui.hudRate.textContent = '0';
  ui.scores.replaceChildren();
  const s0 = ensureSocket();
  setConn('connecting');

  // A function: phoenix's automatic rejoin (after a reconnect) sends the same seat token,
  // which resumes the seat while the server still holds it.
  const params = () => {
    if (g.spectator) return { spectate: true };
    const p = { seat_token: g.token };
    if (g.name) p.name = g.name;
    return p;
  };
  g.channel = s0.channel(g.topic, params);
  g.channel.on('state', (payload) => { if (game === g) onSnapshot(g, payload); });
  g.channel.on('roster', (payload) => { if (game === g) setRoster(g, payload); });
  g.channel.on('ended', (payload) => {
    if (game !== g) return;
    const why = payload && payload.reason ? ` (${payload.reason})` : '';
    stopGame(`The game ended${why}.`);
  });
  g.channel.onError(() => {
    if (game !== g) return;
    g.joined = false;
    setConn(g.wasOnline ? 'reconnecting' : 'connecting');
  });
  g.channel.join()
    // these run again on each of phoenix's rejoins
    .receive('ok', (resp) => {
      if (game !== g) return;
      g.joined = true;
      g.wasOnline = true;
      if (resp && Number(resp.world) > 0) g.world = Number(resp.world);
      if (resp && Number(resp.tick_ms) > 0) g.tickMs = Number(resp.tick_ms);
      if (!g.spectator && resp && Number.isInteger(resp.seat)) g.seat = resp.seat;
      ui.hud.dataset.seat = g.seat === null ? '' : String(g.seat);
      if (!g.spectator) ui.hudSeat.textContent = g.seat === null ? '' : String(g.seat);
      if (resp && resp.roster) setRoster(g, resp.roster);
      setConn('online');
      g.sent = null; // the room may have lost what we pushed before: say it again
      sendInput();
    })
    .receive('error', (resp) => {
      if (game !== g) return;
      const reason = (resp && resp.reason) || 'refused';
      // a refused join does not get better by retrying: stop phoenix's rejoin loop
      stopGame(JOIN_ERRORS[reason] || `Cannot join room ${g.room}: ${reason}`);
    })
    .receive('timeout', () => {
      if (game !== g) return;
      g.joined = false;
      setConn(g.wasOnline ? 'reconnecting' : 'connecting'); // phoenix tries again
    });
}

/** Back to the start screen (with `message`), forgetting the stored seat. */
function stopGame(message) {
  if (!game) return;
  const g = game;
  game = null;
  clearSession();
  if (g.channel) g.channel.leave();
  dropSocket();
  keysHeld.clear();
  touchHeld.clear();
  for (const b of ui.pad.querySelectorAll('button')) b.classList.remove('active');
  Object.assign(ui.hud.dataset, {
    state: 'connecting', room: '', seat: '', tick: '', x: '', y: '', players: '0', rate: '0',
    spectator: 'false',
  });
  ui.scores.replaceChildren();
  if (message !== undefined) showStart(message);
}

ui.leave.addEventListener('click', () => stopGame(''));

function setRoster(g, roster) {
  const players = roster && Array.isArray(roster.players) ? roster.players : [];
  g.roster = new Map();
  for (const p of players) {
    if (!p || !Number.isInteger(p.seat)) continue;
    g.roster.set(p.seat, {
      name: typeof p.name === 'string' && p.name !== '' ? p.name : `player ${p.seat + 1}`,
      connected: p.connected !== false,
      score: Number(p.score) || 0,
    });
  }
  renderScores(g);
}

/** Decodes a "state" snapshot (docs/arena.md); null if it is malformed. */
function decodeSnapshot(buffer) {
  if (!(buffer instanceof ArrayBuffer)) return null;
  const view = new DataView(buffer);
  let off = 0;
  const need = (n) => off + n <= view.byteLength;
  if (!need(5)) return null;
  const tick = view.getUint32(0, true);
  const count = view.getUint8(4);
  off = 5;
  const players = new Map();
  for (let i = 0; i < count; i++) {
    if (!need(8)) return null;
    const seat = view.getUint8(off);
    players.set(seat, {
      seat,
      connected: (view.getUint8(off + 1) & 1) === 1,
      x: view.getUint16(off + 2, true),
      y: view.getUint16(off + 4, true),
      score: view.getUint16(off + 6, true),
    });
    off += 8;
  }
  if (!need(1)) return null;
  const coinCount = view.getUint8(off);
  off += 1;
  const coins = [];
  for (let i = 0; i < coinCount; i++) {
    if (!need(4)) return null;
    coins.push({ x: view.getUint16(off, true), y: view.getUint16(off + 2, true) });
    off += 4;
  }
  return { tick, players, coins, at: performance.now() };
}

function onSnapshot(g, payload) {
  const snap = decodeSnapshot(payload);
  if (!snap) return;
  // a late one (after a newer) is of no use; a tick that went backwards is a restarted room
  if (g.last && snap.tick <= g.last.tick && g.last.tick - snap.tick < 1000) return;
  g.prev = g.last;
  g.last = snap;
  if (g.rateSince === null) g.rateSince = snap.at;
  g.rateTimes.push(snap.at);
  const me = g.seat === null ? undefined : snap.players.get(g.seat);
  Object.assign(ui.hud.dataset, {
    tick: String(snap.tick),
    players: String(snap.players.size),
    x: me ? String(me.x) : '',
    y: me ? String(me.y) : '',
  });
  ui.hudTick.textContent = String(snap.tick);
  renderScores(g);
}

function refreshRate() {
  if (!game) return;
  const now = performance.now();
  const times = game.rateTimes;
  while (times.length && times[0] < now - RATE_WINDOW_MS) times.shift();
  // while the first window fills (a join just now), count over what has elapsed of it
  const span = game.rateSince === null ? RATE_WINDOW_MS
    : clamp(now - game.rateSince, HUD_REFRESH_MS, RATE_WINDOW_MS);
  const rate = String(Math.round(times.length * 1000 / span));
  ui.hud.dataset.rate = rate;
  ui.hudRate.textContent = rate;
}
setInterval(refreshRate, HUD_REFRESH_MS);

function nameOf(g, seat) {
  const r = g.roster.get(seat);
  return r ? r.name : `player ${seat + 1}`;
}

/** The scoreboard: the players of the last snapshot (fresher scores), named by the roster. */
function renderScores(g) {
  const rows = g.last
    ? [...g.last.players.values()].map((p) => ({
      seat: p.seat, name: nameOf(g, p.seat), score: p.score, connected: p.connected,
    }))
    : [...g.roster.entries()].map(([seat, r]) => ({ seat, ...r }));
  rows.sort((a, b) => b.score - a.score || a.seat - b.seat);
  const key = JSON.stringify(rows);
  if (key === g.scoresKey) return;
  g.scoresKey = key;
  ui.scores.replaceChildren(...rows.map((r) => {
    const self = r.seat === g.seat;
    const li = h('li', {
      'data-testid': 'score-row', 'data-seat': r.seat, 'data-score': r.score,
      'data-connected': String(r.connected), 'data-self': String(self),
      title: r.connected ? '' : 'disconnected',
    });
    if (self) li.classList.add('self');
    const dot = h('span', { class: 'dot' });
    dot.style.background = colorOf(r.seat);
    li.append(dot, h('span', { class: 'name' }, self ? `${r.name} (you)` : r.name),
      h('span', { class: 'score' }, String(r.score)));
    return li;
  }));
}

function renderBanner() {
  let text = '';
  if (game) {
    const state = ui.hud.dataset.state;
    if (state !== 'online') text = STATE_LABELS[state];
    else if (game.spectator) text = `Watching room ${game.room}`;
  }
  ui.banner.textContent = text;
  ui.banner.hidden = text === '';
}

// ---------------------------------------------------------------------------------------------
// input: keyboard, and arrow buttons on touch screens

const KEYS = {
  ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right',
  KeyW: 'up', KeyS: 'down', KeyA: 'left', KeyD: 'right',
};
const keysHeld = new Map(); // key code -> direction
const touchHeld = new Map(); // pointer id -> direction

function dirOfKey(ev) {
  return KEYS[ev.code] || KEYS[ev.key] || ({ w: 'up', s: 'down', a: 'left', d: 'right' })[String(ev.key).toLowerCase()];
}

function typingTarget(ev) {
  const t = ev.target;
  return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}

window.addEventListener('keydown', (ev) => {
  if (!game || game.spectator || ev.ctrlKey || ev.metaKey || ev.altKey || typingTarget(ev)) return;
  const dir = dirOfKey(ev);
  if (!dir) return;
  ev.preventDefault(); // no page scrolling with the arrows
  keysHeld.set(ev.code || ev.key, dir);
  sendInput();
});

window.addEventListener('keyup', (ev) => {
  if (keysHeld.delete(ev.code || ev.key)) sendInput();
});

function releaseAll() {
  if (keysHeld.size === 0 && touchHeld.size === 0) return;
  keysHeld.clear();
  touchHeld.clear();
  for (const b of ui.pad.querySelectorAll('button')) b.classList.remove('active');
  sendInput();
}
// a key released while the page had no focus sends no keyup
window.addEventListener('blur', releaseAll);
document.addEventListener('visibilitychange', () => { if (document.hidden) releaseAll(); });

window.addEventListener('touchstart', () => document.body.classList.add('touch'), { passive: true, once: true });

ui.pad.addEventListener('pointerdown', (ev) => {
  const button = ev.target.closest('button[data-dir]');
  if (!button || !game) return;
  ev.preventDefault();
  button.setPointerCapture(ev.pointerId);
  button.classList.add('active');
  touchHeld.set(ev.pointerId, button.dataset.dir);
  sendInput();
});
for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
  ui.pad.addEventListener(type, (ev) => {
    const button = ev.target.closest && ev.target.closest('button[data-dir]');
    if (button) button.classList.remove('active');
    if (touchHeld.delete(ev.pointerId)) sendInput();
  });
}
ui.pad.addEventListener('contextmenu', (ev) => ev.preventDefault());

function currentInput() {
  const held = new Set([...keysHeld.values(), ...touchHeld.values()]);
  return {
    dx: (held.has('right') ? 1 : 0) - (held.has('left') ? 1 : 0),
    dy: (held.has('down') ? 1 : 0) - (held.has('up') ? 1 : 0),
  };
}

/** Pushes the direction held if it differs from the last one pushed (no reply comes back). */
function sendInput() {
  const g = game;
  if (!g || g.spectator || !g.joined || !g.channel) return;
  const input = currentInput();
  if (g.sent && g.sent.dx === input.dx && g.sent.dy === input.dy) return;
  g.sent = input;
  g.channel.push('input', input, INPUT_TIMEOUT_MS);
}

// ---------------------------------------------------------------------------------------------
// drawing

let dpr = 1;

function fitCanvas() {
  const rect = ui.stage.getBoundingClientRect();
  dpr = Math.min(window.devicePixelRatio || 1, 3);
  const w = Math.max(1, Math.round(rect.width * dpr));
  const hgt = Math.max(1, Math.round(rect.height * dpr));
  if (ui.canvas.width !== w || ui.canvas.height !== hgt) {
    ui.canvas.width = w;
    ui.canvas.height = hgt;
  }
}

/** Where to draw each player: between the last two snapshots, one tick behind the server. */
function positions(g, now) {
  const out = new Map();
  if (!g.last) return out;
  const a = g.prev ? clamp((now - g.last.at) / g.tickMs, 0, 1) : 1;
  for (const [seat, p] of g.last.players) {
    const q = g.prev && g.prev.players.get(seat);
    if (!q || Math.abs(p.x - q.x) > TELEPORT || Math.abs(p.y - q.y) > TELEPORT) {
      out.set(seat, { ...p });
    } else {
      out.set(seat, { ...p, x: q.x + (p.x - q.x) * a, y: q.y + (p.y - q.y) * a });
    }
  }
  return out;
}

function draw(now) {
  const g = game;
  fitCanvas();
  const W = ui.canvas.width;
  const H = ui.canvas.height;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#1b2130';
  ctx.fillRect(0, 0, W, H);
  if (!g) return;

  const world = g.world;
  const margin = 10 * dpr;
  const scale = Math.max(0.01, Math.min((W - 2 * margin) / world, (H - 2 * margin) / world));
  const ox = (W - world * scale) / 2;
  const oy = (H - world * scale) / 2;
  const sx = (x) => ox + x * scale;
  const sy = (y) => oy + y * scale;

  // the field and a grid every 100 units
  ctx.fillStyle = '#243047';
  ctx.fillRect(ox, oy, world * scale, world * scale);
  ctx.strokeStyle = 'rgb(255 255 255 / 6%)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let v = 100; v < world; v += 100) {
    ctx.moveTo(Math.round(sx(v)) + 0.5, oy);
    ctx.lineTo(Math.round(sx(v)) + 0.5, oy + world * scale);
    ctx.moveTo(ox, Math.round(sy(v)) + 0.5);
    ctx.lineTo(ox + world * scale, Math.round(sy(v)) + 0.5);
  }
  ctx.stroke();
  ctx.strokeStyle = 'rgb(255 255 255 / 30%)';
  ctx.lineWidth = 2 * dpr;
  ctx.strokeRect(ox, oy, world * scale, world * scale);

  if (!g.last) {
    ctx.fillStyle = 'rgb(255 255 255 / 60%)';
    ctx.font = `${14 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('Waiting for the game…', W / 2, H / 2);
    return;
  }

  // coins
  const coinR = Math.max(4 * dpr, COIN_RADIUS * scale);
  for (const c of g.last.coins) {
    ctx.beginPath();
    ctx.arc(sx(c.x), sy(c.y), coinR, 0, Math.PI * 2);
    ctx.fillStyle = '#f5c542';
    ctx.fill();
    ctx.lineWidth = Math.max(1, coinR * 0.25);
    ctx.strokeStyle = '#b8860b';
    ctx.stroke();
  }

  // players, the own one last (on top)
  const pos = positions(g, now);
  const order = [...pos.values()].sort((a, b) => (a.seat === g.seat) - (b.seat === g.seat));
  const r = Math.max(7 * dpr, PLAYER_RADIUS * scale);
  const fontPx = Math.round(clamp(12 * dpr, 10, 40));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  for (const p of order) {
    const self = p.seat === g.seat;
    const x = sx(p.x);
    const y = sy(p.y);
    ctx.globalAlpha = p.connected ? 1 : 0.4;
    if (self) {
      ctx.beginPath();
      ctx.arc(x, y, r + 5 * dpr, 0, Math.PI * 2);
      ctx.fillStyle = 'rgb(255 255 255 / 18%)';
      ctx.fill();
    }
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fillStyle = colorOf(p.seat);
    ctx.fill();
    ctx.lineWidth = (self ? 3 : 1.5) * dpr;
    ctx.strokeStyle = self ? '#ffffff' : 'rgb(0 0 0 / 45%)';
    ctx.stroke();
    ctx.font = `${self ? 'bold ' : ''}${fontPx}px system-ui, sans-serif`;
    ctx.fillStyle = '#ffffff';
    const label = nameOf(g, p.seat) + (p.connected ? '' : ' (away)');
    ctx.fillText(label, x, y - r - 4 * dpr);
    ctx.globalAlpha = 1;
  }
}

function frame(now) {
  if (!ui.gameView.hidden) draw(now);
  requestAnimationFrame(frame);
}

// ---------------------------------------------------------------------------------------------

const resumed = loadSession();
if (resumed) startGame(resumed); // a reload: rejoin with the stored seat token
else showStart();
requestAnimationFrame(frame);
