// Browser test of the recording and its replay: Debian's headless Chromium with a fake camera. An official
// schedules and starts a session of her own, the room says it is recorded (录制中), the lecturer publishes
// her (fake, real VP8) camera, a chair on her phone whose browser lacks WebRTC takes the room's way out to
// the live sound (Ogg/Opus over HTTP) and hears it play, the moderator pauses and resumes the recording,
// and the official ends the session. Then the chair watches the replay: real decoded video, the speed
// buttons, the watch-time reports; and the voice-only replay, which never fetches the video file.
//
// Runs against a running server (QUORUM_TEST_URL), in .ci/run's browser tier. It schedules its own session
// rather than driving the demo one: node --test runs the files in name order and room.test.mjs (after this
// file) starts the demo session itself. The new session starts now, earlier than the demo session, so the
// official's home (newest start first) still lists the demo session first, where the other files look.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { audit } from './axe.mjs';

const base = process.env.QUORUM_TEST_URL || 'http://127.0.0.1:8099';
const password = 'quorum-demo';
const shot = (name) => `${process.env.SCREENSHOT_DIR || '/tmp'}/replay-${name}.png`;
// Anything the Content-Security-Policy blocks (an inline script or style, a media source) fails the test:
// Chromium reports it on the console.
const cspViolations = [];
// What window.confirm asked (结束培训): accepted, and kept for the assertions.
const dialogs = [];

// A chair's phone inside WeChat (see shared/FIELD.md).
const wechat = 'Mozilla/5.0 (Linux; Android 12; V2055A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.5304.141 '
  + 'Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/1234 MicroMessenger/8.0.34.2340(0x28002237) '
  + 'WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64';

let b;
// Shared by the tests below, which run in order: the session the first one holds and ends.
let session;
let chair;
// How long the lecture ran and the recording was paused (ms, as this test measured them).
let lectureMs;
let pausedMs;

before(async () => {
  b = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    ],
  });
});

after(async () => {
  await b?.close();
});

function watch(page, who) {
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
  page.on('pageerror', (e) => console.log(`[${who}] page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) cspViolations.push(`[${who}] ${m.text()}`);
  });
  return page;
}

async function signIn(phone) {
  const ctx = await b.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true, userAgent: wechat,
    permissions: ['camera', 'microphone'],
  });
  const page = watch(await ctx.newPage(), phone);
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

// The media element #replay / #live-audio: started (muted: nobody listens), and where it stands.
async function play(page, selector) {
  await page.$eval(selector, (m) => { m.muted = true; return m.play().then(() => 'playing', (e) => String(e)); });
}
const position = (page, selector) => page.$eval(selector, (m) => m.currentTime);

test('the lecture is recorded while live, a chair without WebRTC hears it live, the moderator pauses the recording', { timeout: 90_000 }, async (t) => {
  // The official schedules a session for her whole street, starting now, lectured by the demo lawyer,
  // with a one-question quiz (the replay page shows a chair's watch time only for a session with a quiz).
  const official = await signIn('13900000002');
  await official.goto(`${base}/sessions/new`);
  await official.fill('#f-title', `录像回看 ${new Date().toISOString().slice(11, 19)}`);
  await official.fill('#f-starts_at', shanghai(2));
  await official.fill('#f-ends_at', shanghai(92));
  await official.check('fieldset:has(input[name=lecturers]) label:has-text("刘建国") input');
  await official.check('input[name=invite][value=street]');
  await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]')]);
  session = official.url().match(/\/sessions\/(\d+)$/)?.[1];
  assert.ok(session, `the new session's page: ${official.url()}`);
  await official.goto(`${base}/sessions/${session}/quiz`);
  await official.fill('input[name="topic:业主大会"]', '1');
  await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]:has-text("保存设置")')]);
  const room = `${base}/sessions/${session}/room`;

  // The lobby says the session is recorded; once started, the room shows 录制中.
  await official.goto(room);
  await official.waitForSelector('#conn[data-state=connected]');
  assert.match(await official.textContent('#lobby'), /本场培训将全程录制/);
  await official.click('#start');
  await official.waitForSelector('#live:not([hidden])');
  const started = Date.now();
  await official.waitForSelector('#rec-badge:not([hidden]):has-text("录制中")');
  await official.waitForSelector('#record-toggle:not([hidden]):has-text("暂停录制")');

  const lawyer = await signIn('13900000003');
  await lawyer.goto(room);
  await lawyer.waitForSelector('#live:not([hidden])');
  await lawyer.waitForSelector('#rec-badge:not([hidden]):has-text("录制中")');
  await lawyer.click('#publish-camera');
  // The chair comes in a few seconds late: the replay is where she catches up on what she missed.
  await lawyer.waitForTimeout(3000);

  // The chair's phone browser has no WebRTC: the room offers the live sound instead.
  chair = await signIn('13900000101');
  const noRtc = watch(await chair.context().newPage(), '13900000101 without WebRTC');
  await noRtc.addInitScript(() => {
    delete window.RTCPeerConnection;
    delete window.webkitRTCPeerConnection;
  });
  await noRtc.goto(room);
  await noRtc.waitForSelector('#live:not([hidden])');
  await noRtc.waitForSelector('#listen-instead:not([hidden])');
  const responses = [];
  noRtc.on('response', (r) => responses.push(r));
  await Promise.all([noRtc.waitForNavigation(), noRtc.click('#listen-instead a')]);
  assert.equal(noRtc.url(), `${base}/sessions/${session}/listen`);
  const src = await noRtc.getAttribute('audio#live-audio', 'src');
  assert.equal(src, `/sessions/${session}/live.ogg`);
  await play(noRtc, '#live-audio');
  await until('the live sound to play for 1 s', async () => (await position(noRtc, '#live-audio')) > 1, 15_000);
  const ogg = responses.find((r) => r.url().endsWith('/live.ogg'));
  assert.ok(ogg, 'the stream was requested');
  assert.equal(ogg.status(), 200);
  assert.match(ogg.headers()['content-type'], /^audio\/ogg/);
  await noRtc.screenshot({ path: shot('listen'), fullPage: true });

  // The moderator pauses the recording for 2 s: everyone's badge says so, then 录制中 again.
  const heard = await position(noRtc, '#live-audio');
  await official.click('#record-toggle');
  const pausedAt = Date.now();
  await official.waitForSelector('#rec-badge:has-text("录制已暂停")');
  await official.waitForSelector('#record-toggle:has-text("继续录制")');
  await lawyer.waitForSelector('#rec-badge:has-text("录制已暂停")');
  await official.waitForTimeout(2000);
  await official.click('#record-toggle');
  await official.waitForSelector('#rec-badge:has-text("录制中")');
  pausedMs = Date.now() - pausedAt;
  await lawyer.waitForSelector('#rec-badge:has-text("录制中")');
  const sinceStart = Date.now() - started;
  if (sinceStart < 10_000) await official.waitForTimeout(10_000 - sinceStart);
  // The live sound kept playing through the pause (the pause is the recording's, not the lecture's).
  const later = await position(noRtc, '#live-audio');
  assert.ok(later > heard + 1.5, `the live sound plays on (${heard} → ${later} s)`);

  // 结束培训, confirmed: the room ends for everyone, the badge goes.
  await official.click('#end');
  await official.waitForSelector('#ended:not([hidden])');
  lectureMs = Date.now() - started;
  t.diagnostic(`lecture ${lectureMs} ms, recording paused about ${pausedMs} ms`);
  assert.ok(dialogs.some((m) => /结束/.test(m)), `结束培训 asked first: ${dialogs.join(' | ')}`);
  await lawyer.waitForSelector('#ended:not([hidden])');
  assert.equal(await official.isVisible('#rec-badge'), false);
  await noRtc.close();
  await lawyer.context().close();
  await official.context().close();
  assert.deepEqual(cspViolations, [], 'nothing is blocked by the Content-Security-Policy');
});

test('the chair watches the replay: decoded video, speed, watch time reported', { timeout: 60_000 }, async (t) => {
  assert.ok(session && chair, 'the session above was held');
  const page = chair;
  const progress = [];
  const media = [];
  page.on('response', (r) => {
    if (r.url().endsWith('/progress')) progress.push(r);
    if (r.url().includes('/replay/') && r.url().endsWith('.webm')) media.push(r);
  });
  // The files are finalised as the session ends; allow the page a few seconds to offer them.
  const replay = `${base}/sessions/${session}/replay`;
  await until('the replay to be offered', async () => {
    await page.goto(replay);
    return await page.locator('video#replay').count() > 0;
  }, 20_000);
  const video = await page.$eval('video#replay', (v) => ({
    src: v.getAttribute('src'), controls: v.controls, list: v.getAttribute('controlslist'),
  }));
  assert.match(video.src, /^\/replay\/[\w-]+\/video\.webm$/);
  assert.ok(video.controls && /nodownload/.test(video.list), JSON.stringify(video));
  assert.ok(await page.locator('ol.chapters li a:has-text("开始")').count() > 0, 'the start is a chapter');
  assert.ok(await page.isVisible('#watched'), 'the chair sees her watch time');

  // Her share so far: what she heard live.
  const livePercent = Number((await page.textContent('#percent')).trim());
  assert.ok(livePercent > 0 && livePercent < 100, `she heard part of it live: ${livePercent}%`);

  // Playback starts where the file's first frame is (the lecturer's camera came a moment after the
  // start), so it is measured from there: 2 s of the lecture's beginning, which she missed live.
  await play(page, '#replay');
  const from = await position(page, '#replay');
  await until('the replay to play for 2 s', async () => (await position(page, '#replay')) > from + 2, 15_000);
  const frame = await page.$eval('#replay', (v) => ({ w: v.videoWidth, h: v.videoHeight, duration: v.duration }));
  t.diagnostic(`replay ${frame.w}×${frame.h}, ${frame.duration} s, playing from ${from} s`);
  assert.ok(frame.w > 0 && frame.h > 0, `real decoded video: ${JSON.stringify(frame)}`);
  // The lecture less the pause: the file's clock stops while paused (and leaves 0.5 s between the runs).
  const lecture = lectureMs / 1000;
  assert.ok(Number.isFinite(frame.duration) && frame.duration < lecture - 1 && frame.duration > lecture - pausedMs / 1000 - 2,
    `length ${frame.duration} s of a ${lecture} s lecture paused ${pausedMs / 1000} s`);

  // The play event reported her position; the pause reports what she played, and the panel shows the
  // answer: her share grew by the part she had missed.
  const before = progress.length;
  assert.ok(before >= 1, 'the start of playback was reported');
  await page.$eval('#replay', (v) => v.pause());
  const answer = await until('the pause to be reported', () => progress.length > before && progress[progress.length - 1], 10_000);
  for (const r of progress) assert.equal(r.status(), 200, `${r.url()} → ${r.status()}`);
  const w = await answer.json();
  t.diagnostic(`watched: live ${livePercent}% → ${JSON.stringify(w)}`);
  assert.ok(Number.isInteger(w.live_minutes) && Number.isInteger(w.replay_minutes), JSON.stringify(w));
  assert.ok(w.percent > livePercent, `the replay adds to her share: ${livePercent}% → ${JSON.stringify(w)}`);
  await until('the panel to show the report', async () => (await page.textContent('#percent')).trim() === String(w.percent), 5_000);
  assert.equal((await page.textContent('#replay-minutes')).trim(), String(w.replay_minutes));
  assert.equal((await page.textContent('#live-minutes')).trim(), String(w.live_minutes));

  // 1.5×: the player's rate, and the buttons say which is on.
  await page.click('[data-rate="1.5"]');
  assert.equal(await page.$eval('#replay', (v) => v.playbackRate), 1.5);
  assert.equal(await page.getAttribute('[data-rate="1.5"]', 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute('[data-rate="1"]', 'aria-pressed'), 'false');
  await play(page, '#replay');
  const at = await position(page, '#replay');
  await until('the replay to play on at 1.5×', async () => (await position(page, '#replay')) > at + 1, 10_000);
  await page.$eval('#replay', (v) => v.pause());

  // The file came by range requests.
  assert.ok(media.some((r) => r.status() === 206 && /^bytes \d+-\d+\/\d+$/.test(r.headers()['content-range'] || '')),
    `a 206 with its range: ${media.map((r) => `${r.status()} ${r.headers()['content-range']}`).join(', ')}`);
  assert.ok(media.every((r) => r.url().endsWith('/video.webm')), 'only the video file');
  await page.screenshot({ path: shot('video'), fullPage: true });
  const found = await audit(page, 'the replay', undefined);
  assert.deepEqual(found, [], found.join('\n'));
  assert.deepEqual(cspViolations, [], 'nothing is blocked by the Content-Security-Policy');
});

test('仅听声音: the voice-only replay plays and never fetches the video', { timeout: 45_000 }, async () => {
  assert.ok(session && chair, 'the session above was held');
  // The link on the video page (the chair's page of the test above), followed in a page of its own so
  // that the video page's own requests do not count.
  const href = await chair.getAttribute('a.button:has-text("仅听声音")', 'href');
  assert.equal(href, `/sessions/${session}/replay?audio=true`);
  const page = watch(await chair.context().newPage(), '13900000101 voice only');
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${base}${href}`);
  assert.ok(await page.locator('a.button:has-text("看视频")').count() > 0, 'the way back to the video');
  const src = await page.getAttribute('audio#replay', 'src');
  assert.match(src, /^\/replay\/[\w-]+\/audio\.webm$/);
  assert.equal(await page.locator('video').count(), 0);
  await play(page, '#replay');
  const from = await position(page, '#replay');
  await until('the voice to play for 1 s', async () => (await position(page, '#replay')) > from + 1, 15_000);
  await page.screenshot({ path: shot('audio'), fullPage: true });
  const video = requests.filter((u) => u.includes('video.webm'));
  assert.deepEqual(video, [], 'no request for the video');
  assert.ok(requests.some((u) => u.endsWith('/audio.webm')), 'the voice file was fetched');
  const found = await audit(page, 'the voice-only replay', undefined);
  assert.deepEqual(found, [], found.join('\n'));
  assert.deepEqual(cspViolations, [], 'nothing is blocked by the Content-Security-Policy');
});
