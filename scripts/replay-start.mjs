// Replay start time on a chair's phone: how long from opening a session's replay page until the player
// plays, for the video (/sessions/{id}/replay) and the voice-only variant (?audio=true), under emulated
// networks (Chrome DevTools Protocol: Network.emulateNetworkConditions, cache disabled).
//
//   QUORUM_TEST_URL=http://127.0.0.1:PORT LECTURE_SECONDS=60 node scripts/replay-start.mjs
//
// Runs against a running demo server (see REPLAY-BENCH.md for how to start one). Setup records a real
// video first, the way tests/browser/replay.test.mjs does: the demo official schedules a session for her
// street with the demo lawyer, starts it, the lawyer publishes Chromium's fake camera for LECTURE_SECONDS,
// the official ends it. REPLAY_SESSION=<id> skips the setup and measures that session's replay.
//
// Each run is a fresh browser context (a new network context: new connections, nothing cached) with the
// chair's sign-in cookie, a phone viewport and WeChat's user agent. The page calls play() (muted) at
// DOMContentLoaded, i.e. as soon as the player exists, so the figure is the least a chair can wait; her
// tap comes later. Times are the page's performance.now() at the media events, which counts from the start
// of the navigation (the HTML page's own fetch included).
//
// Options (environment): RUNS (default 5), PROFILES (comma-separated names, default all), CHROMIUM.
import { createRequire } from 'node:module';

// playwright-core is the browser tests' dependency (tests/browser, `npm ci` there).
const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const base = process.env.QUORUM_TEST_URL || 'http://127.0.0.1:8099';
const password = 'quorum-demo';
const lectureSeconds = Number(process.env.LECTURE_SECONDS || 60);
const runs = Number(process.env.RUNS || 5);

// Throughput in bytes per second as CDP wants it; kbit and Mbit are decimal (1 kbit = 1,000 bit).
const kbit = 1000 / 8;
const profiles = [
  { name: 'loopback', conditions: null },
  { name: '4G', conditions: { latency: 60, downloadThroughput: 9000 * kbit, uploadThroughput: 1500 * kbit } },
  { name: 'weak 3G', conditions: { latency: 150, downloadThroughput: 750 * kbit, uploadThroughput: 250 * kbit } },
].filter((p) => !process.env.PROFILES || process.env.PROFILES.split(',').includes(p.name));

// A chair's phone inside WeChat (as in tests/browser/replay.test.mjs; see shared/FIELD.md).
const wechat = 'Mozilla/5.0 (Linux; Android 12; V2055A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.5304.141 '
  + 'Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/1234 MicroMessenger/8.0.34.2340(0x28002237) '
  + 'WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64';
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true, userAgent: wechat };

let b;

// --- Helpers copied from tests/browser/replay.test.mjs (this is a separate tool, not a test). ---

function watch(page, who) {
  // 结束培训 asks window.confirm: accepted.
  page.on('dialog', (d) => d.accept());
  page.on('pageerror', (e) => console.error(`[${who}] page error: ${e.message}`));
  return page;
}

async function signIn(phoneNumber) {
  const ctx = await b.newContext({ ...phone, permissions: ['camera', 'microphone'] });
  const page = watch(await ctx.newPage(), phoneNumber);
  await page.goto(`${base}/signin`);
  await page.fill('#f-identifier', phoneNumber);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
  return page;
}

// A datetime-local value in Shanghai time, `minutes` from now.
function shanghai(minutes) {
  return new Date(Date.now() + minutes * 60_000 + 8 * 3_600_000).toISOString().slice(0, 16);
}

// Polls `check` until it returns something truthy.
async function until(what, check, timeout = 20_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// --- Setup: a finished recording of real (fake-camera) video. ---

async function record() {
  const official = await signIn('13900000002');
  await official.goto(`${base}/sessions/new`);
  await official.fill('#f-title', `回看起播测速 ${new Date().toISOString().slice(11, 19)}`);
  await official.fill('#f-starts_at', shanghai(2));
  await official.fill('#f-ends_at', shanghai(92));
  await official.check('fieldset:has(input[name=lecturers]) label:has-text("刘建国") input');
  await official.check('input[name=invite][value=street]');
  await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]')]);
  const session = official.url().match(/\/sessions\/(\d+)$/)?.[1];
  if (!session) throw new Error(`no session page after scheduling: ${official.url()}`);
  const room = `${base}/sessions/${session}/room`;

  await official.goto(room);
  await official.waitForSelector('#conn[data-state=connected]');
  await official.click('#start');
  await official.waitForSelector('#live:not([hidden])');
  await official.waitForSelector('#rec-badge:not([hidden]):has-text("录制中")');

  const lawyer = await signIn('13900000003');
  await lawyer.goto(room);
  await lawyer.waitForSelector('#live:not([hidden])');
  await lawyer.click('#publish-camera');
  const started = Date.now();
  console.error(`session ${session}: lecturing for ${lectureSeconds} s`);
  await lawyer.waitForTimeout(lectureSeconds * 1000);

  await official.click('#end');
  await official.waitForSelector('#ended:not([hidden])');
  console.error(`session ${session}: ended after ${((Date.now() - started) / 1000).toFixed(1)} s of camera`);
  await lawyer.context().close();
  await official.context().close();
  return session;
}

// --- Measurement. ---

// One run: a fresh context, the page opened under `profile`, play() at DOMContentLoaded, until `playing`.
async function measure(storageState, profile, url) {
  const ctx = await b.newContext({ ...phone, storageState });
  // Media events do not bubble, but a capturing listener on the document sees them.
  await ctx.addInitScript(() => {
    const t = { };
    window.__bench = t;
    for (const name of ['loadedmetadata', 'canplay', 'playing']) {
      document.addEventListener(name, (e) => {
        if (e.target.id === 'replay' && t[name] === undefined) t[name] = performance.now();
      }, true);
    }
    document.addEventListener('DOMContentLoaded', () => {
      const m = document.getElementById('replay');
      if (!m) { t.error = 'no player on the page'; return; }
      m.muted = true;
      t.play = performance.now();
      m.play().catch((e) => { t.error = String(e); });
    });
  });
  const page = watch(await ctx.newPage(), 'chair');
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (profile.conditions) {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...profile.conditions });
  }
  const requests = new Map();
  const chunks = [];
  // The document request's two clocks (wall, seconds since the epoch; monotonic, seconds), to place the
  // page's `playing` on the monotonic clock of the network events.
  let clocks = null;
  cdp.on('Network.requestWillBeSent', (e) => {
    requests.set(e.requestId, { url: e.request.url, range: e.request.headers.Range || e.request.headers.range });
    if (!clocks && e.type === 'Document') clocks = { wall: e.wallTime, mono: e.timestamp };
  });
  cdp.on('Network.responseReceived', (e) => {
    const r = requests.get(e.requestId);
    if (!r) return;
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    r.status = e.response.status;
    r.contentRange = h['content-range'];
    r.contentLength = h['content-length'];
  });
  cdp.on('Network.dataReceived', (e) => chunks.push({ id: e.requestId, at: e.timestamp, bytes: e.dataLength }));

  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
  await page.waitForFunction(() => window.__bench.playing !== undefined || window.__bench.error, null,
    { timeout: 180_000, polling: 50 });
  const t = await page.evaluate(() => {
    const m = document.getElementById('replay');
    return { ...window.__bench, origin: performance.timeOrigin, duration: m.duration, width: m.videoWidth || 0, height: m.videoHeight || 0 };
  });
  if (t.error) throw new Error(`${url}: ${t.error}`);
  const src = new URL(await page.getAttribute('#replay', 'src'), base).href.replace(/#.*$/, '');
  const playingMono = clocks.mono + ((t.origin + t.playing) / 1000 - clocks.wall);
  const media = [...requests.entries()].filter(([, r]) => r.url === src);
  const ids = new Set(media.map(([id]) => id));
  const bytes = chunks.filter((c) => ids.has(c.id) && c.at <= playingMono).reduce((s, c) => s + c.bytes, 0);
  const total = media.map(([, r]) => Number(r.contentRange?.match(/\/(\d+)$/)?.[1] ?? r.contentLength)).find((n) => n > 0);
  await ctx.close();
  return {
    play: t.play, loadedmetadata: t.loadedmetadata, playing: t.playing, bytes, requests: media.length,
    ranges: media.map(([, r]) => `${r.range ?? '-'}→${r.status}`).join(' '), total, duration: t.duration,
    size: t.width ? `${t.width}×${t.height}` : '',
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => Math.round(x).toLocaleString('en-US');
const kib = (x) => `${(x / 1024).toLocaleString('en-US', { maximumFractionDigits: 0 })} KiB`;

async function main() {
  b = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    ],
  });
  try {
    const session = process.env.REPLAY_SESSION || await record();
    const chairPage = await signIn('13900000101');
    const replay = `${base}/sessions/${session}/replay`;
    // The files are finalised as the session ends; allow the page a few seconds to offer them.
    await until('the replay to be offered', async () => {
      await chairPage.goto(replay);
      return await chairPage.locator('video#replay').count() > 0;
    }, 30_000);
    const storageState = await chairPage.context().storageState();
    await chairPage.context().close();

    const variants = [
      { name: 'video', url: replay },
      { name: 'voice only', url: `${replay}?audio=true` },
    ];
    const results = [];
    const files = {};
    for (const profile of profiles) {
      const got = Object.fromEntries(variants.map((v) => [v.name, []]));
      // Video and voice alternate, so that anything drifting on the shared machine hits both alike.
      for (let i = 0; i < runs; i++) {
        for (const v of variants) {
          const r = await measure(storageState, profile, v.url);
          got[v.name].push(r);
          files[v.name] = { total: r.total, duration: r.duration, size: r.size };
          console.error(`${profile.name.padEnd(8)} ${v.name.padEnd(10)} run ${i + 1}: play() at ${ms(r.play)}, `
            + `loadedmetadata ${ms(r.loadedmetadata)}, playing ${ms(r.playing)} ms, ${r.bytes} B before playing `
            + `(${r.requests} request(s): ${r.ranges})`);
        }
      }
      for (const v of variants) results.push({ profile: profile.name, variant: v.name, runs: got[v.name] });
    }

    console.log(`\nReplay start, session ${session}, ${runs} runs per row, cache disabled, a fresh browser context per run.`);
    console.log('Times from the start of navigation (the HTML page\'s fetch included); play() called at DOMContentLoaded.\n');
    console.log('| network | replay | loadedmetadata median / max | playing median / max | bytes before playing median / max | requests |');
    console.log('|---|---|---|---|---|---|');
    for (const r of results) {
      const col = (k) => r.runs.map((x) => x[k]);
      console.log(`| ${r.profile} | ${r.variant} | ${ms(median(col('loadedmetadata')))} / ${ms(Math.max(...col('loadedmetadata')))} ms `
        + `| ${ms(median(col('playing')))} / ${ms(Math.max(...col('playing')))} ms `
        + `| ${kib(median(col('bytes')))} / ${kib(Math.max(...col('bytes')))} `
        + `| ${median(col('requests'))} |`);
    }
    const v = files.video;
    const a = files['voice only'];
    const perMinute = (f) => f.total / (f.duration / 60);
    console.log(`\nRecording: ${v.duration.toFixed(1)} s (video.duration), ${v.size}; voice ${a.duration.toFixed(1)} s.`);
    console.log('File sizes (Content-Range totals):');
    for (const [name, f] of [['video.webm', v], ['audio.webm', a]]) {
      console.log(`  ${name}: ${f.total.toLocaleString('en-US')} B = ${(perMinute(f) / 1e6).toFixed(2)} MB per minute `
        + `= ${(perMinute(f) * 60 / 1e6).toFixed(0)} MB per hour (${(perMinute(f) * 8 / 60 / 1000).toFixed(0)} kbit/s)`);
    }
    console.log('Note: this is Chromium\'s fake camera (a synthetic test pattern) as WebRTC encoded it on loopback, '
      + 'not a lecturer\'s camera at 1.5 Mbit/s (≈ 675 MB per hour); the video file size per hour scales with the real bitrate.');
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
