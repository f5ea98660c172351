// Asteroids for several players. Each browser flies its own ship and tells
// the game server where it is; the server passes that on to everyone else.
// The rocks are the same for everybody: their paths follow the server's
// clock, and a rock that someone shoots is gone for all for a few seconds.
'use strict';
const canvas = document.getElementById('game');
const ctx = canvas.getContext('2d');
const W = canvas.width, H = canvas.height;
const nameInput = document.getElementById('name');
const statusText = document.getElementById('status');
const scoreList = document.getElementById('scores');

const wrap = (v, max) => ((v % max) + max) % max;
const rand = (i, k) => { const s = Math.sin(i * 127.1 + k * 311.7) * 43758.5453; return s - Math.floor(s); };

const keys = {};
addEventListener('keydown', (e) => {
  if (e.target === nameInput) return;
  keys[e.code] = true;
  if (e.code.startsWith('Arrow') || e.code === 'Space') e.preventDefault();
});
addEventListener('keyup', (e) => { keys[e.code] = false; });

nameInput.value = localStorage.getItem('name') || 'pilot-' + Math.floor(Math.random() * 1000);
nameInput.addEventListener('change', () => localStorage.setItem('name', nameInput.value));

const me = { x: W / 2, y: H / 2, vx: 0, vy: 0, a: -Math.PI / 2, hue: Math.floor(Math.random() * 360),
  score: 0, bullets: [], reload: 0, shield: 2 };
const others = new Map(); // player id -> last state received
let myId = 0, clockOffset = 0, socket = null;

// Rocks: positions are a function of the server's time (seconds).
const ROCKS = 8;
const rockBack = new Array(ROCKS).fill(0); // a shot rock is gone until then
const serverTime = () => (Date.now() + clockOffset) / 1000;
function rock(i, t) {
  const vx = (rand(i, 2) - 0.5) * 80, vy = (rand(i, 3) - 0.5) * 80;
  return { x: wrap(rand(i, 0) * W + vx * t, W), y: wrap(rand(i, 1) * H + vy * t, H), r: 18 + rand(i, 4) * 22 };
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = new URLSearchParams(location.search).get('server') || `${scheme}://${location.host}/ws`;
  socket = new WebSocket(url);
  socket.onopen = () => { statusText.textContent = 'connected'; };
  socket.onclose = () => {
    statusText.textContent = 'not connected to the game server, retrying';
    others.clear();
    setTimeout(connect, 2000);
  };
  socket.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'welcome') { myId = msg.id; clockOffset = msg.time - Date.now(); }
    else if (msg.type === 'state') others.set(msg.id, { ...msg, seen: Date.now() });
    else if (msg.type === 'leave') others.delete(msg.id);
    else if (msg.type === 'rock') rockBack[msg.rock] = msg.until;
    else if (msg.type === 'hit' && msg.target === myId) respawn();
  };
}
const send = (msg) => { if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg)); };

function respawn() {
  Object.assign(me, { x: Math.random() * W, y: Math.random() * H, vx: 0, vy: 0, bullets: [], shield: 2 });
}

function update(dt, t) {
  if (keys.ArrowLeft || keys.KeyA) me.a -= 4 * dt;
  if (keys.ArrowRight || keys.KeyD) me.a += 4 * dt;
  if (keys.ArrowUp || keys.KeyW) { me.vx += Math.cos(me.a) * 250 * dt; me.vy += Math.sin(me.a) * 250 * dt; }
  const drag = Math.pow(0.6, dt);
  me.vx *= drag; me.vy *= drag;
  me.x = wrap(me.x + me.vx * dt, W); me.y = wrap(me.y + me.vy * dt, H);
  me.reload -= dt; me.shield -= dt;
  if (keys.Space && me.reload <= 0) {
    me.reload = 0.25;
    const c = Math.cos(me.a), s = Math.sin(me.a);
    me.bullets.push({ x: me.x + c * 12, y: me.y + s * 12, vx: me.vx + c * 420, vy: me.vy + s * 420, life: 1.2 });
  }
  for (const b of me.bullets) {
    b.x = wrap(b.x + b.vx * dt, W); b.y = wrap(b.y + b.vy * dt, H); b.life -= dt;
    for (let i = 0; i < ROCKS && b.life > 0; i++) {
      const r = rock(i, t);
      if (t >= rockBack[i] && Math.hypot(b.x - r.x, b.y - r.y) < r.r) {
        rockBack[i] = t + 5; b.life = 0; me.score += 1;
        send({ type: 'rock', rock: i, until: rockBack[i] });
      }
    }
    for (const [id, o] of others) {
      if (b.life > 0 && !o.shield && Math.hypot(b.x - o.x, b.y - o.y) < 12) {
        b.life = 0; me.score += 5;
        o.shield = true; // it respawns shielded: no second hit on where it was
        send({ type: 'hit', target: id });
      }
    }
  }
  me.bullets = me.bullets.filter((b) => b.life > 0);
  for (let i = 0; i < ROCKS; i++) {
    const r = rock(i, t);
    if (me.shield <= 0 && t >= rockBack[i] && Math.hypot(me.x - r.x, me.y - r.y) < r.r + 8) respawn();
  }
  for (const [id, o] of others) if (Date.now() - o.seen > 3000) others.delete(id);
}

function drawShip(p, name) {
  ctx.save();
  ctx.translate(p.x, p.y); ctx.rotate(p.a);
  ctx.strokeStyle = `hsl(${p.hue}, 90%, 60%)`;
  ctx.globalAlpha = p.shield > 0 ? 0.4 : 1;
  ctx.beginPath(); ctx.moveTo(14, 0); ctx.lineTo(-10, 8); ctx.lineTo(-6, 0); ctx.lineTo(-10, -8); ctx.closePath(); ctx.stroke();
  ctx.restore();
  ctx.fillStyle = '#aaa';
  ctx.fillText(`${name} ${p.score}`, p.x - 20, p.y - 16);
  ctx.fillStyle = `hsl(${p.hue}, 90%, 70%)`;
  for (const b of p.bullets) ctx.fillRect(b[0] - 1.5, b[1] - 1.5, 3, 3);
}

function draw(t) {
  ctx.fillStyle = '#000'; ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = '#bbb'; ctx.font = '12px monospace';
  for (let i = 0; i < ROCKS; i++) {
    if (t < rockBack[i]) continue;
    const r = rock(i, t);
    ctx.beginPath();
    for (let k = 0; k < 10; k++) {
      const a = (k / 10) * 2 * Math.PI, d = r.r * (0.75 + 0.25 * rand(i, 10 + k));
      ctx.lineTo(r.x + Math.cos(a) * d, r.y + Math.sin(a) * d);
    }
    ctx.closePath(); ctx.stroke();
  }
  for (const o of others.values()) drawShip(o, o.name);
  drawShip({ ...me, bullets: me.bullets.map((b) => [b.x, b.y]) }, nameInput.value);
  ctx.fillStyle = '#fff';
  ctx.fillText(`score ${me.score}   players ${others.size + 1}`, 10, 20);
}

let last = performance.now(), lastSent = 0;
function frame(now) {
  const dt = Math.min((now - last) / 1000, 0.1), t = serverTime();
  last = now;
  update(dt, t);
  if (now - lastSent > 50) {
    lastSent = now;
    send({ type: 'state', name: nameInput.value, x: me.x, y: me.y, a: me.a, hue: me.hue, score: me.score,
      shield: me.shield > 0, bullets: me.bullets.map((b) => [Math.round(b.x), Math.round(b.y)]) });
  }
  draw(t);
  requestAnimationFrame(frame);
}

// The best scores, which the game server keeps on the shared volume.
async function showScores() {
  try {
    const res = await fetch('scores.json', { cache: 'no-store' });
    const top = res.ok ? await res.json() : [];
    scoreList.replaceChildren(...top.map((s) => Object.assign(document.createElement('li'), { textContent: `${s.name}: ${s.score}` })));
  } catch { /* no scores yet */ }
}

connect();
showScores();
setInterval(showScores, 5000);
requestAnimationFrame(frame);
