// Roomcast chat, browser side: talks to roomcast-chat (same origin) over Phoenix Channels v2
// with the official `phoenix` client. User data is only ever put in the page as text
// (textContent), never as HTML.
import { Socket, Presence } from 'phoenix';
import { byId, h } from '../../../web-common/dom.js';

const NAME_RE = /^[A-Za-z0-9_-]{1,32}$/; // the server's rule for user and room names
const NAME_HINT = '1-32 letters, digits, _ or -';
const STORE_KEY = 'roomcast-chat'; // sessionStorage: {name, token, expiresAt, room}
const HISTORY = 50; // messages back-filled on a first join
const ROOMS_POLL_MS = 5_000;
const TOKEN_REFRESH_MS = 30 * 60_000;
const TYPING_SEND_MS = 2_000; // at most one "typing" push per this
const TYPING_SHOW_MS = 3_000; // how long "x is typing…" stays after their last event
const OFFLINE_AFTER_MS = 5_000; // down this long: "reconnecting" becomes "offline"
const STATE_LABELS = {
  connecting: 'Connecting…', online: 'Online', reconnecting: 'Reconnecting…', offline: 'Offline',
};

const ui = {
  loginView: document.getElementById('login-view'),
  chatView: document.getElementById('chat-view'),
  loginForm: document.getElementById('login-form'),
  roomForm: document.getElementById('room-form'),
  sendForm: document.getElementById('send-form'),
  loginName: byId('login-name'),
  loginButton: byId('login-button'),
  loginError: byId('login-error'),
  roomsToggle: byId('rooms-toggle'),
  conn: byId('connection-state'),
  me: byId('current-user'),
  logout: byId('logout-button'),
  roomList: byId('room-list'),
  roomInput: byId('room-input'),
  roomError: byId('room-error'),
  currentRoom: byId('current-room'),
  presence: byId('presence-list'),
  messages: byId('message-list'),
  typing: byId('typing-indicator'),
  input: byId('message-input'),
  send: byId('send-button'),
  sendError: byId('send-error'),
};

// A tab on a narrow screen counts as a phone: that is what the presence list shows.
const DEVICE = matchMedia('(max-width: 600px)').matches || /Mobi|Android/i.test(navigator.userAgent)
  ? 'phone' : 'desktop';

// ---------------------------------------------------------------------------------------------
// session (survives a reload of this tab, not a new tab)

let session = loadSession(); // null while logged out
let socket = null;
let room = null; // the joined room: {name, channel, presence, lastSeq, seqs, typers}
let failures = 0; // closes since the last open
let downSince = 0; // when the connection was lost (or first failed)
let lastRefresh = 0;
let timers = [];

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORE_KEY));
    return s && NAME_RE.test(s.name) && typeof s.token === 'string' ? s : null;
  } catch {
    return null;
  }
}

function saveSession() {
  if (session) sessionStorage.setItem(STORE_KEY, JSON.stringify(session));
}

/** POST /api/login; resolves to {token, user, expires_in}, rejects with the server's message. */
async function requestToken(name) {
  let res;
  try {
    res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
  } catch {
    throw new Error('Cannot reach the server.');
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok || typeof body.token !== 'string') {
    throw Object.assign(new Error(body.message || body.error || `Login failed (HTTP ${res.status}).`),
      { status: res.status });
  }
  return body;
}

function applyToken(body) {
  session.token = body.token;
  session.expiresAt = Date.now() + (Number(body.expires_in) || 3600) * 1000;
  saveSession();
}

/** Re-login with the same name for a fresh token; only a refused name (400) ends the session:
 * a server that is down or restarting is retried by the next refresh. */
async function refreshToken() {
  if (!session) return;
  lastRefresh = Date.now();
  const name = session.name;
  try {
    const body = await requestToken(name);
    if (session && session.name === name) applyToken(body);
  } catch (e) {
    if (e.status === 400 && session && session.name === name) logout(e.message);
  }
}

ui.loginForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = ui.loginName.value.trim();
  if (!NAME_RE.test(name)) {
    ui.loginError.textContent = `A name is ${NAME_HINT}.`;
    return;
  }
  ui.loginError.textContent = '';
  ui.loginButton.disabled = true;
  try {
    const body = await requestToken(name);
    session = { name: body.user || name, room: 'lobby' };
    applyToken(body);
    startChat();
  } catch (e) {
    ui.loginError.textContent = e.message;
  } finally {
    ui.loginButton.disabled = false;
  }
});

ui.logout.addEventListener('click', () => logout());

function logout(reason = '') {
  session = null;
  sessionStorage.removeItem(STORE_KEY);
  timers.forEach(clearInterval);
  timers = [];
  leaveRoom();
  if (socket) {
    const s = socket;
    socket = null; // its close callbacks see they are stale
    s.disconnect();
  }
  setConn('offline');
  ui.conn.hidden = true; // nothing to connect while logged out
  ui.chatView.hidden = true;
  ui.logout.hidden = true;
  ui.roomsToggle.hidden = true;
  ui.me.textContent = '';
  ui.roomList.replaceChildren();
  ui.loginView.hidden = false;
  ui.loginError.textContent = reason;
  ui.loginName.focus();
}

async function startChat() {
  ui.loginView.hidden = true;
  ui.chatView.hidden = false;
  ui.logout.hidden = false;
  ui.roomsToggle.hidden = false;
  ui.conn.hidden = false;
  ui.me.textContent = session.name;
  // a token stored before a reload may be about to expire: get a fresh one first
  if (!session.expiresAt || session.expiresAt - Date.now() < 60_000) await refreshToken();
  if (!session) return;
  connect();
  joinRoom(session.room || 'lobby');
  pollRooms();
  timers.push(setInterval(pollRooms, ROOMS_POLL_MS));
  timers.push(setInterval(refreshToken, TOKEN_REFRESH_MS));
}

// ---------------------------------------------------------------------------------------------
// connection

function setConn(state) {
  ui.conn.dataset.state = state;
  ui.conn.textContent = STATE_LABELS[state];
}

function connect() {
  setConn('connecting');
  failures = 0;
  // params is read again on every reconnect, so a refreshed token is picked up
  const s = new Socket('/socket', { params: () => ({ token: session ? session.token : '' }) });
  socket = s;
  s.onOpen(() => {
    if (s !== socket) return;
    failures = 0;
    setConn('online');
  });
  s.onClose((event) => {
    if (s !== socket) return;
    failures += 1;
    if (failures === 1) downSince = Date.now();
    const longDown = Date.now() - downSince >= OFFLINE_AFTER_MS;
    setConn(longDown || !navigator.onLine ? 'offline' : 'reconnecting');
    // 1008: the token is expiring. Repeated failures: it may have been refused (401, which a
    // browser cannot tell apart from other failed upgrades). Either way a fresh token helps.
    const stale = event && event.code === 1008;
    if (stale || (failures >= 2 && Date.now() - lastRefresh > 10_000)) refreshToken();
  });
  s.connect();
}

window.addEventListener('offline', () => { if (socket) setConn('offline'); });
window.addEventListener('online', () => {
  if (socket && !socket.isConnected()) setConn('reconnecting');
});

// ---------------------------------------------------------------------------------------------
// rooms

ui.roomForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = ui.roomInput.value.trim().replace(/^#/, '');
  if (!NAME_RE.test(name)) {
    ui.roomError.textContent = `A room name is ${NAME_HINT}.`;
    return;
  }
  ui.roomInput.value = '';
  joinRoom(name);
});

ui.roomList.addEventListener('click', (ev) => {
  const item = ev.target.closest('[data-room]');
  if (item) joinRoom(item.dataset.room);
});

ui.roomsToggle.addEventListener('click', () => setRoomsOpen(!document.body.classList.contains('rooms-open')));

function setRoomsOpen(open) {
  document.body.classList.toggle('rooms-open', open);
  ui.roomsToggle.setAttribute('aria-expanded', String(open));
}

let lastRooms = [];

async function pollRooms() {
  try {
    const res = await fetch('/api/rooms');
    if (!res.ok) return;
    const body = await res.json();
    if (Array.isArray(body.rooms)) lastRooms = body.rooms;
  } catch {
    return; // keep the last list; the connection state shows what is wrong
  }
  renderRooms();
}

function renderRooms() {
  if (!session) return;
  const rooms = lastRooms.map((r) => ({ name: String(r.name), online: Number(r.online) || 0 }));
  if (room && !rooms.some((r) => r.name === room.name)) rooms.push({ name: room.name, online: 0 });
  if (room && room.synced) {
    // our own presence is fresher than the last poll
    rooms.find((r) => r.name === room.name).online = room.presence.list().length;
  }
  rooms.sort((a, b) => (a.name === 'lobby' ? -1 : b.name === 'lobby' ? 1 : a.name.localeCompare(b.name)));
  const items = rooms.map((r) => {
    const li = h('li', { 'data-testid': 'room-item', 'data-room': r.name, 'data-online': r.online });
    const button = h('button', { type: 'button', class: 'room' });
    if (room && r.name === room.name) {
      li.classList.add('current');
      button.setAttribute('aria-current', 'true');
    }
    button.append(h('span', { class: 'room-name' }, `#${r.name}`),
      h('span', { class: 'room-online', 'data-testid': 'room-online', title: 'online' }, String(r.online)));
    li.append(button);
    return li;
  });
  ui.roomList.replaceChildren(...items);
}

function leaveRoom() {
  if (!room) return;
  const old = room;
  room = null;
  old.typers.forEach(clearTimeout);
  old.channel.leave();
  ui.messages.replaceChildren();
  ui.presence.replaceChildren();
  ui.typing.textContent = '';
  ui.sendError.textContent = '';
  ui.currentRoom.textContent = '';
  updateSend();
}

function joinRoom(name) {
  if (!socket || (room && room.name === name)) {
    setRoomsOpen(false);
    return;
  }
  leaveRoom();
  ui.roomError.textContent = '';
  const state = { name, lastSeq: null, seqs: new Set(), typers: new Map(), synced: false };
  // A function, so that phoenix's automatic rejoin (after a reconnect) asks for what was missed.
  const params = () => (state.lastSeq === null
    ? { device: DEVICE, history: HISTORY }
    : { device: DEVICE, since: state.lastSeq });
  state.channel = socket.channel(`room:${name}`, params);
  state.presence = new Presence(state.channel);
  state.presence.onSync(() => {
    if (room !== state) return;
    state.synced = true;
    renderPresence(state);
    renderRooms();
  });
  state.channel.on('new_msg', (msg) => { if (room === state) addMessage(state, msg); });
  state.channel.on('typing', ({ user }) => { if (room === state) showTyping(state, user); });
  state.channel.join()
    .receive('ok', (resp) => {
      if (room !== state) return;
      if (resp && resp.recovered === false) {
        addNotice('Some messages sent while you were away are no longer available.');
      }
      pollRooms();
    })
    .receive('error', (resp) => {
      if (room !== state) return;
      // a refused join does not get better by retrying: stop phoenix's rejoin loop
      leaveRoom();
      ui.roomError.textContent = `Cannot join #${name}: ${(resp && resp.reason) || 'refused'}`;
      setRoomsOpen(true);
    });
  room = state;
  session.room = name;
  saveSession();
  ui.currentRoom.textContent = `#${name}`;
  setRoomsOpen(false);
  renderRooms();
  updateSend();
}

// ---------------------------------------------------------------------------------------------
// messages

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Adds a message in seq order; a seq seen before (replayed after a rejoin) is skipped. */
function addMessage(state, msg) {
  const seq = Number(msg.seq);
  if (!Number.isFinite(seq) || state.seqs.has(seq)) return;
  state.seqs.add(seq);
  if (state.lastSeq === null || seq > state.lastSeq) state.lastSeq = seq;
  if (state.typers.has(msg.user)) hideTyping(state, msg.user);

  const own = session && msg.user === session.name;
  const when = new Date(Number(msg.ts) || Date.now());
  const li = h('li', {
    class: own ? 'msg own' : 'msg', 'data-testid': 'message', 'data-seq': seq, 'data-user': msg.user,
  });
  const meta = h('div', { class: 'meta' });
  meta.append(h('span', { class: 'user', 'data-testid': 'message-user' }, String(msg.user)),
    h('time', { 'data-testid': 'message-time', datetime: when.toISOString(), title: when.toLocaleString() },
      timeFmt.format(when)));
  li.append(meta, h('p', { class: 'body', 'data-testid': 'message-body' }, String(msg.body)));

  const list = ui.messages;
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  // usually the last; a late replayed message goes before the later ones
  let before = null;
  for (let node = list.lastElementChild; node; node = node.previousElementSibling) {
    if (node.dataset.seq === undefined) continue;
    if (Number(node.dataset.seq) < seq) break;
    before = node;
  }
  list.insertBefore(li, before);
  if (nearBottom || own) list.scrollTop = list.scrollHeight;
}

function addNotice(text) {
  ui.messages.append(h('li', { class: 'notice' }, text));
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function updateSend() {
  ui.send.disabled = !room || sending || ui.input.value.trim() === '';
}

let sending = false;
let lastTypingSent = 0;

ui.input.addEventListener('input', () => {
  updateSend();
  ui.sendError.textContent = '';
  const now = Date.now();
  if (room && ui.input.value.trim() !== '' && now - lastTypingSent >= TYPING_SEND_MS) {
    lastTypingSent = now;
    room.channel.push('typing', {});
  }
});

ui.input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    ui.sendForm.requestSubmit();
  }
});

ui.sendForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const body = ui.input.value;
  // an empty message is not sendable (the button is disabled); the server checks the rest
  if (!room || sending || body.trim() === '') return;
  const state = room;
  sending = true;
  updateSend();
  const done = (error) => {
    sending = false;
    if (room === state) {
      if (error) ui.sendError.textContent = error;
      else if (ui.input.value === body) ui.input.value = '';
    }
    updateSend();
  };
  state.channel.push('new_msg', { body })
    .receive('ok', () => done(''))
    .receive('error', (resp) => done(`Not sent: ${(resp && resp.reason) || 'refused'}`))
    .receive('timeout', () => done('Not sent: no answer from the server, try again.'));
});

// ---------------------------------------------------------------------------------------------
// presence and typing

function renderPresence(state) {
  // one entry per user however many tabs they have open; metas hold one entry per tab
  const users = state.presence.list((name, { metas }) => ({
    name, count: metas.length, devices: metas.map((m) => m.device || 'unknown'),
  }));
  users.sort((a, b) => a.name.localeCompare(b.name));
  ui.presence.replaceChildren(...users.map((u) => {
    const li = h('li', {
      'data-testid': 'presence-user', 'data-user': u.name, 'data-count': u.count,
      title: u.devices.join(', '),
    });
    if (session && u.name === session.name) li.classList.add('self');
    li.append(h('span', { class: 'name' }, u.name),
      h('span', { class: 'devices' }, u.count > 1 ? `${u.count} tabs` : u.devices[0]));
    return li;
  }));
}

function showTyping(state, user) {
  if (!user || (session && user === session.name)) return;
  clearTimeout(state.typers.get(user));
  state.typers.set(user, setTimeout(() => hideTyping(state, user), TYPING_SHOW_MS));
  renderTyping(state);
}

function hideTyping(state, user) {
  clearTimeout(state.typers.get(user));
  state.typers.delete(user);
  renderTyping(state);
}

function renderTyping(state) {
  if (room !== state) return;
  const names = [...state.typers.keys()];
  ui.typing.textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…`
      : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
        : `${names.length} people are typing…`;
}

// ---------------------------------------------------------------------------------------------

if (session) startChat();
else logout();
