// Asteroids game server: a WebSocket hub without dependencies (node's http
// and crypto only). Each JSON message a player sends is passed on to every
// other player, tagged with the sender's id. The best scores go to
// SCORES_FILE, on the shared volume, where the web server serves them.
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const PORT = Number(process.env.PORT || 8080);
const SCORES_FILE = process.env.SCORES_FILE || ''; // e.g. /data/scores.json; empty: none
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'; // RFC 6455, section 1.3
const MAX_FRAME = 16 * 1024;
const RELAYED = new Set(['state', 'hit', 'rock']); // what players may send each other

const players = new Map(); // id -> socket
let nextId = 1;

// frame encodes one final, unmasked frame (a server never masks).
function frame(opcode, payload) {
  const n = payload.length;
  const head = Buffer.alloc(n < 126 ? 2 : n < 65536 ? 4 : 10);
  head[0] = 0x80 | opcode;
  if (n < 126) head[1] = n;
  else if (n < 65536) { head[1] = 126; head.writeUInt16BE(n, 2); }
  else { head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2); }
  return Buffer.concat([head, payload]);
}

// parse takes one frame off the front of buf and unmasks it; it returns
// null while buf holds less than a whole frame.
function parse(buf) {
  if (buf.length < 2) return null;
  let n = buf[1] & 0x7f, off = 2;
  if (n === 126) { if (buf.length < 4) return null; n = buf.readUInt16BE(2); off = 4; }
  else if (n === 127) { if (buf.length < 10) return null; n = Number(buf.readBigUInt64BE(2)); off = 10; }
  if (n > MAX_FRAME) throw new Error('frame too large');
  if (!(buf[1] & 0x80)) throw new Error('unmasked client frame');
  if (buf.length < off + 4 + n) return null;
  const mask = buf.subarray(off, off + 4);
  const payload = Buffer.from(buf.subarray(off + 4, off + 4 + n));
  for (let i = 0; i < n; i++) payload[i] ^= mask[i & 3];
  return { fin: (buf[0] & 0x80) !== 0, opcode: buf[0] & 0x0f, payload, rest: buf.subarray(off + 4 + n) };
}

function send(socket, msg) {
  if (socket.writable) socket.write(frame(0x1, Buffer.from(JSON.stringify(msg))));
}

function broadcast(from, msg) {
  for (const [id, socket] of players) if (id !== from) send(socket, msg);
}

function relay(from, text) {
  let msg;
  try { msg = JSON.parse(text); } catch { return; }
  if (!msg || !RELAYED.has(msg.type)) return;
  msg.id = from;
  if (SCORES_FILE && msg.type === 'state' && typeof msg.name === 'string' && Number.isInteger(msg.score)) record(msg.name.slice(0, 20), msg.score);
  broadcast(from, msg);
}

// Best scores, kept in memory and written every few seconds when changed,
// without blocking: the game goes on while the storage is slow.
const best = new Map(); // name -> score
let changed = false, saving = false;
function record(name, score) {
  if (score > (best.get(name) || 0)) { best.set(name, score); changed = true; }
}
async function saveScores() {
  if (!changed || saving) return;
  const top = [...best].sort((a, b) => b[1] - a[1]).slice(0, 10);
  best.clear();
  for (const [name, score] of top) best.set(name, score);
  changed = false;
  saving = true;
  try {
    await fs.promises.writeFile(SCORES_FILE + '.tmp', JSON.stringify(top.map(([name, score]) => ({ name, score }))));
    await fs.promises.rename(SCORES_FILE + '.tmp', SCORES_FILE); // readers never see half a file
  } catch (err) {
    console.error(`saving scores: ${err.message}`);
    changed = true; // tried again next time
  }
  saving = false;
}
if (SCORES_FILE) {
  try { for (const s of JSON.parse(fs.readFileSync(SCORES_FILE, 'utf8'))) best.set(s.name, s.score); } catch {}
  setInterval(saveScores, 5000).unref();
}

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`asteroids game server: ${players.size} players\n`);
});

server.on('upgrade', (req, socket, head) => {
  const key = req.headers['sec-websocket-key'];
  if (!key || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const id = nextId++;
  players.set(id, socket);
  send(socket, { type: 'welcome', id, time: Date.now() });
  let gone = false;
  const leave = () => {
    if (gone) return;
    gone = true;
    players.delete(id);
    broadcast(id, { type: 'leave', id });
  };
  const close = (payload) => { // send a close frame, end the connection
    socket.end(frame(0x8, payload));
    setTimeout(() => socket.destroy(), 2000).unref();
    leave();
  };
  let buf = Buffer.from(head);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    try {
      for (let f; !gone && (f = parse(buf));) {
        buf = f.rest;
        if (f.opcode === 0x8) close(f.payload.subarray(0, 2)); // echo the status code
        else if (f.opcode === 0x9) socket.write(frame(0xa, f.payload)); // ping: pong
        else if (f.opcode === 0x1 && f.fin) relay(id, f.payload.toString('utf8'));
        else if (f.opcode !== 0xa) throw new Error(`unsupported frame (opcode ${f.opcode})`);
      }
    } catch (err) {
      close(Buffer.from([0x03, 0xea])); // 1002: protocol error
    }
  });
  socket.on('close', leave);
  socket.on('error', () => socket.destroy());
});

// As the container's first process, node would ignore SIGTERM.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
server.listen(PORT, () => console.log(`asteroids game server on port ${PORT}, scores: ${SCORES_FILE || 'not kept'}`));
