// A chair whose network blocks UDP still sees the lecture, through the TURN relay (coturn over TCP) with the
// time-limited credentials her room page carries. The block is real: her Chromium runs as a throwaway user
// whose outgoing UDP the firewall drops (iptables owner match), so only TCP reaches anything; coturn, running as
// root, relays to the SFU over UDP.
//
// Run by .ci/run, which starts coturn (use-auth-secret) and passes QUORUM_TEST_TURN (host:port) and
// QUORUM_TEST_TURN_SECRET. This file starts its own server (target/debug/quorum, or QUORUM_BIN) with those
// TURN settings and its own var dir, so the shared demo server's state is left alone. Needs root (for
// iptables and the throwaway user); skipped, saying so, without it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const password = 'quorum-demo';
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const args = [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
];

function run(cmd, argv) {
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Why the test cannot run here, or null. Only a missing privilege or a missing firewall skips it.
function cannotRun() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'needs root: it adds an iptables rule and a throwaway user to really block UDP';
  }
  try {
    run('iptables', ['-w', '-L', 'OUTPUT', '-n']);
  } catch (e) {
    return `iptables is unavailable (${String(e.message).split('\n')[0]}); .ci/run installs it`;
  }
  return null;
}
const skip = cannotRun();
if (skip) console.log(`# turn.test.mjs skipped: ${skip}`);

// Everything set up is undone here, whatever happened (also after a timeout, through `after`).
const cleanups = [];
async function cleanUp() {
  while (cleanups.length) {
    const undo = cleanups.pop();
    try { await undo(); } catch (e) { console.log(`# cleanup: ${e.message}`); }
  }
}
after(cleanUp);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Our own server, configured with the relay.
async function startServer(turn, secret) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-turn-server-'));
  const port = await freePort();
  const bin = process.env.QUORUM_BIN || path.resolve(here, '../../target/debug/quorum');
  const env = {
    ...process.env,
    QUORUM__PATHS__VAR_DIR: dir,
    QUORUM__DATABASE__URL: `sqlite://${dir}/quorum.db?mode=rwc`,
    QUORUM__SERVER__PORT: String(port),
    QUORUM__ROOMS__TURN_URLS: `turn:${turn}?transport=tcp`,
    QUORUM__ROOMS__TURN_SECRET: secret,
    QUORUM_LOG: 'warn',
  };
  const log = fs.openSync(path.join(dir, 'server.log'), 'w');
  const server = spawn(bin, ['serve'], { env, stdio: ['ignore', log, log] });
  cleanups.push(() => { server.kill(); fs.rmSync(dir, { recursive: true, force: true }); });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    if (server.exitCode !== null) break;
    try { if ((await fetch(`${base}/healthz`)).ok) return base; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the TURN-configured server did not start: ${fs.readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000)}`);
}

// A throwaway user whose UDP the firewall drops; returns a Chromium wrapper that runs as that user.
function udpBlockedUser() {
  const name = `qturn${process.pid}`;
  run('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name]);
  cleanups.push(() => run('userdel', [name]));
  const uid = run('id', ['-u', name]).trim();
  const gid = run('id', ['-g', name]).trim();
  const rule = ['OUTPUT', '-m', 'owner', '--uid-owner', uid, '-p', 'udp', '-j', 'DROP'];
  run('iptables', ['-w', '-A', ...rule]);
  cleanups.push(() => run('iptables', ['-w', '-D', ...rule]));
  // Should the process end before `after` runs, the firewall rule and the user still go.
  process.once('exit', () => {
    for (const [cmd, argv] of [['iptables', ['-w', '-D', ...rule]], ['userdel', [name]]]) {
      try { run(cmd, argv); } catch { /* already undone */ }
    }
  });
  // Her home and profile: Chromium must be able to write them as her.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-turn-chair-'));
  cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
  fs.chmodSync(home, 0o755);
  const profile = path.join(home, 'profile');
  fs.mkdirSync(profile);
  const wrapper = path.join(home, 'chromium');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexport HOME=${home}\nexec setpriv --reuid ${uid} --regid ${gid} --init-groups ${chromiumPath} "$@"\n`);
  fs.chmodSync(wrapper, 0o755);
  run('chown', ['-R', `${uid}:${gid}`, profile]);
  run('chown', [`${uid}:${gid}`, home]);
  // How many of her UDP packets the rule dropped: proof that the block was met, not just set.
  const dropped = () => {
    const line = run('iptables', ['-w', '-L', 'OUTPUT', '-n', '-v', '-x']).split('\n')
      .find((l) => l.includes(`owner UID match ${uid}`) && l.includes('DROP'));
    return line ? Number(line.trim().split(/\s+/)[0]) : 0;
  };
  return { wrapper, profile, dropped };
}

async function signIn(page, base, phone) {
  page.on('pageerror', (e) => console.log(`[${phone}] page error: ${e.message}`));
  await page.goto(`${base}/signin`);
  await page.fill('#f-identifier', phone);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
  // First sign-in: the personal-information notice, accepted once.
  if (new URL(page.url()).pathname === '/privacy') {
    await Promise.all([page.waitForNavigation(), page.click('form[action="/privacy"] button[type=submit]')]);
  }
  return page;
}

async function newPage(b, base, phone) {
  const ctx = await b.newContext({ viewport: { width: 390, height: 844 }, permissions: ['camera', 'microphone'] });
  return signIn(await ctx.newPage(), base, phone);
}

// The viewer's media as getStats() reports it: frames decoded and the selected candidate pair.
async function viewStats(page) {
  return page.evaluate(async () => {
    const pc = window.quorumRoom && window.quorumRoom.viewPc;
    if (!pc) return { frames: 0, pair: null };
    const stats = await pc.getStats();
    let frames = 0;
    let pairId = null;
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
      if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
    });
    const pair = pairId && stats.get(pairId);
    if (!pair) return { frames, pair: null };
    const local = stats.get(pair.localCandidateId) || {};
    const remote = stats.get(pair.remoteCandidateId) || {};
    return {
      frames,
      pair: { local: local.candidateType, relayProtocol: local.relayProtocol, remote: remote.candidateType, remoteProtocol: remote.protocol },
    };
  });
}

test('a chair whose UDP is blocked watches the lecture through the TURN relay', { skip: skip || false, timeout: 120_000 }, async () => {
  const turn = process.env.QUORUM_TEST_TURN;
  const secret = process.env.QUORUM_TEST_TURN_SECRET;
  assert.ok(turn && secret, 'QUORUM_TEST_TURN and QUORUM_TEST_TURN_SECRET name the coturn that .ci/run starts');
  const base = await startServer(turn, secret);
  const blocked = udpBlockedUser();

  const b = await chromium.launch({ executablePath: chromiumPath, args });
  cleanups.push(() => b.close());
  const official = await newPage(b, base, '13900000002');
  await official.goto(`${base}/`);
  const id = (await official.getAttribute('ul.cards a', 'href')).match(/\/sessions\/(\d+)/)[1];
  const room = `${base}/sessions/${id}/room`;
  await official.goto(room);
  await official.waitForSelector('#conn[data-state=connected]');
  await official.click('#start');
  await official.waitForSelector('#live:not([hidden])');
  const lawyer = await newPage(b, base, '13900000003');
  await lawyer.goto(room);
  await lawyer.waitForSelector('#live:not([hidden])');
  await lawyer.click('#publish-camera');

  // The chair, in her own Chromium as the UDP-blocked user.
  const ctx = await chromium.launchPersistentContext(blocked.profile, {
    executablePath: blocked.wrapper, args, viewport: { width: 390, height: 844 },
  });
  cleanups.push(() => ctx.close());
  const chair = await signIn(ctx.pages()[0] || await ctx.newPage(), base, '13900000101');
  await chair.goto(room);
  const ice = JSON.parse(await chair.getAttribute('#room', 'data-ice'));
  assert.ok(ice.some((s) => s.urls.includes(`turn:${turn}?transport=tcp`) && s.username && s.credential),
    `the page carries the relay with credentials: ${JSON.stringify(ice.map((s) => s.urls))}`);
  await chair.waitForSelector('#live:not([hidden])');

  let first = { frames: 0, pair: null };
  for (let i = 0; i < 60 && first.frames === 0; i++) {
    await chair.waitForTimeout(500);
    first = await viewStats(chair);
  }
  assert.ok(first.frames > 0, `the UDP-blocked chair decodes video (pair: ${JSON.stringify(first.pair)})`);
  await chair.waitForTimeout(3000);
  const later = await viewStats(chair);
  assert.ok(later.frames > first.frames + 10, `frames keep coming (${first.frames} → ${later.frames})`);
  assert.equal(later.pair && later.pair.local, 'relay', `through the relay: ${JSON.stringify(later.pair)}`);
  assert.equal(later.pair.relayProtocol, 'tcp', 'she reaches the relay over TCP');
  assert.ok(blocked.dropped() > 0, 'the firewall really dropped her UDP');
});
