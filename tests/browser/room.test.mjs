// Browser test of the live room: Debian's headless Chromium with a fake camera. An official starts the
// demo session, the lecturer publishes, a chair watches: the chair's getStats() must show framesDecoded
// rising. Run by .ci/run against a freshly started server (QUORUM_TEST_URL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { audit } from './axe.mjs';

const base = process.env.QUORUM_TEST_URL || 'http://127.0.0.1:8099';
const password = 'quorum-demo';
// Anything the Content-Security-Policy blocks (an inline script or style, a media or socket source) fails
// the test: Chromium reports it on the console.
const cspViolations = [];
// What window.confirm asked (交卷, 结束培训): accepted, and kept for the assertions.
const dialogs = [];

async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

// A chair's phone inside WeChat (see shared/FIELD.md).
const wechat = 'Mozilla/5.0 (Linux; Android 12; V2055A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.5304.141 '
  + 'Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/1234 MicroMessenger/8.0.34.2340(0x28002237) '
  + 'WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64';

async function signIn(b, phone) {
  const ctx = await b.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true, userAgent: wechat,
    permissions: ['camera', 'microphone'],
  });
  const page = await ctx.newPage();
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
  page.on('pageerror', (e) => console.log(`[${phone}] page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) cspViolations.push(`[${phone}] ${m.text()}`);
  });
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

async function sessionId(page) {
  await page.goto(`${base}/`);
  const href = await page.getAttribute('ul.cards a', 'href');
  return href.match(/\/sessions\/(\d+)/)[1];
}

async function framesDecoded(page) {
  return page.evaluate(async () => {
    const pc = window.quorumRoom && window.quorumRoom.viewPc;
    if (!pc) return 0;
    const stats = await pc.getStats();
    let frames = 0;
    stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0; });
    return frames;
  });
}

test('a chair sees the lecturer: frames decoded keep rising', { timeout: 90_000 }, async () => {
  const b = await browser();
  try {
    const official = await signIn(b, '13900000002');
    const id = await sessionId(official);
    await official.goto(`${base}/sessions/${id}/room`);
    await official.waitForSelector('#conn[data-state=connected]');
    await official.click('#start');
    await official.waitForSelector('#live:not([hidden])');

    const lawyer = await signIn(b, '13900000003');
    await lawyer.goto(`${base}/sessions/${id}/room`);
    await lawyer.waitForSelector('#live:not([hidden])');
    await lawyer.click('#publish-camera');

    const chair = await signIn(b, '13900000101');
    await chair.goto(`${base}/sessions/${id}/room`);
    await chair.waitForSelector('#live:not([hidden])');

    let first = 0;
    for (let i = 0; i < 40 && first === 0; i++) {
      await chair.waitForTimeout(500);
      first = await framesDecoded(chair);
    }
    assert.ok(first > 0, 'the chair decodes video');
    await chair.waitForTimeout(3000);
    const later = await framesDecoded(chair);
    assert.ok(later > first + 10, `frames keep coming (${first} → ${later})`);

    // Chat round trip through the page.
    await chair.fill('#chat-text', '请问维修资金怎么申请？');
    await chair.click('#chat-form button');
    await official.waitForSelector('#chat li:has-text("请问维修资金怎么申请？")');
    await chair.screenshot({ path: process.env.SCREENSHOT || '/tmp/room-chair.png', fullPage: true });
    assert.deepEqual(cspViolations, [], 'nothing is blocked by the Content-Security-Policy');
  } finally {
    await b.close();
  }
});

// Runs after the test above (tests in a file run in order): the demo session is live.
test('the quiz reaches a chair in the room and marks the answered question', { timeout: 180_000 }, async () => {
  const b = await browser();
  const found = [];
  try {
    const official = await signIn(b, '13900000002');
    const id = await sessionId(official);
    const lawyer = await signIn(b, '13900000003');
    await lawyer.goto(`${base}/sessions/${id}/room`);
    await lawyer.waitForSelector('#live:not([hidden])');
    await lawyer.click('#publish-camera');
    const chair = await signIn(b, '13900000101');
    const room = `${base}/sessions/${id}/room`;
    await chair.goto(room);
    await chair.waitForSelector('#live:not([hidden])');
    // WeChat's browser is named, with the way out to the phone's browser, only if something is missing.
    const caps = await chair.$eval('#caps', (e) => ({ hidden: e.hidden, text: e.textContent }));
    assert.ok(caps.hidden || /在浏览器打开/.test(caps.text), JSON.stringify(caps));

    // 举手 answers in words: 已举手 with 放下手, and back.
    await chair.click('#hand');
    await chair.waitForSelector('#hand[aria-pressed=true]:has-text("已举手")');
    await chair.click('#hand');
    await chair.waitForSelector('#hand[aria-pressed=false]:has-text("举手")');

    // The official lets everyone in the room take it (the test's chair has not sat through the lecture).
    await official.goto(`${base}/sessions/${id}/quiz`);
    await official.fill('#f-attendance_gate', '0');
    await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]:has-text("保存设置")')]);
    // She opens the quiz from the room and stays there, seeing the counter.
    await official.goto(room);
    await official.waitForSelector('#live:not([hidden])');
    let first = 0;
    for (let i = 0; i < 40 && first === 0; i++) {
      await chair.waitForTimeout(500);
      first = await framesDecoded(chair);
    }
    assert.ok(first > 0, 'the chair decodes video before the quiz');
    await official.click('#open-quiz');
    await official.waitForFunction(() => /在场/.test(document.getElementById('quiz-counter').textContent), null, { timeout: 20_000 });
    assert.equal(official.url(), room, 'the moderator is still in the room');

    // The room shows the quiz inside the room: the chair's page stays, the frame holds her attempt, and the
    // lecture keeps decoding underneath.
    await chair.waitForSelector('#quiz-panel:not([hidden])', { timeout: 20_000 });
    assert.equal(chair.url(), room, 'the chair is still in the room');
    let inFrame = null;
    for (let i = 0; i < 40 && !inFrame; i++) {
      inFrame = chair.frames().find((f) => /\/attempts\/\d+/.test(f.url()));
      if (!inFrame) await chair.waitForTimeout(250);
    }
    assert.ok(inFrame, `the frame holds the attempt (${chair.frames().map((f) => f.url()).join(', ')})`);
    await inFrame.waitForSelector('form.question label.option');
    const during = await framesDecoded(chair);
    await chair.waitForTimeout(3000);
    const after = await framesDecoded(chair);
    assert.ok(after > during + 10, `frames keep decoding during the quiz (${first} → ${during} → ${after})`);
    await chair.screenshot({ path: (process.env.SCREENSHOT || '/tmp/room-chair.png').replace(/\.png$/, '-quiz-in-room.png') });
    // 返回直播 folds the quiz away; 回到答题 brings it back.
    await chair.click('#quiz-hide');
    await chair.waitForSelector('#quiz-panel[hidden]', { state: 'attached' });
    await chair.click('#quiz-show');
    await chair.waitForSelector('#quiz-panel:not([hidden])');
    const attempt = inFrame.url().match(/\/attempts\/(\d+)/)[1];
    // The same attempt stands on its own too (the no-JavaScript pages): the rest looks at it full size.
    await chair.goto(`${base}/attempts/${attempt}`);
    const shot = (name) => (process.env.SCREENSHOT || '/tmp/room-chair.png').replace(/\.png$/, `-${name}.png`);

    // On the phone at the standard size the question gets the screen: little above the stem, no gaps
    // between the options, and the question fits the first screen whole. Which questions a quiz draws is
    // random; shipped-questions.test.mjs lays out every shipped one.
    const count = await chair.locator('.qnav a.qdot').count();
    assert.ok(count > 0);
    const overflow = [];
    for (let q = 0; q < count; q++) {
      await chair.goto(`${base}/attempts/${attempt}?q=${q}`);
      const boxes = await chair.$$eval('form.question .stem, form.question label.option', (els) => els.map((e) => {
        const r = e.getBoundingClientRect();
        return { top: Math.round(r.top), bottom: Math.round(r.bottom), text: e.textContent.trim().slice(0, 16) };
      }));
      await chair.screenshot({ path: shot(`first-screen-${q + 1}`) });
      assert.ok(boxes.length >= 3, `question ${q + 1} shows its stem and options`);
      assert.ok(boxes[0].top <= 190, `question ${q + 1}: the stem starts near the top (${boxes[0].top} px)`);
      for (let i = 1; i < boxes.length; i++) {
        assert.ok(boxes[i].top - boxes[i - 1].bottom <= 16, `question ${q + 1}: no gap before ${JSON.stringify(boxes[i])}`);
      }
      if (boxes[boxes.length - 1].bottom > 844) overflow.push(`question ${q + 1} (${boxes[0].text}…): ${boxes[boxes.length - 1].bottom - 844} px`);
    }
    assert.deepEqual(overflow, [], 'every drawn question fits the first screen');
    // The clock in words.
    await chair.waitForFunction(() => /^还剩 \d+ 分 \d+ 秒$/.test(document.getElementById('remaining').textContent));
    found.push(...await audit(chair, 'the quiz question', undefined));

    // 朗读: the stem, then each option with its letter, in Chinese, through the page's speech engine.
    await chair.context().addInitScript(() => {
      window.__spoken = [];
      window.speechSynthesis.getVoices = () => [];
      window.speechSynthesis.cancel = () => {};
      window.speechSynthesis.speak = (u) => {
        window.__spoken.push({ text: u.text, lang: u.lang });
        setTimeout(() => { u.onstart && u.onstart(); setTimeout(() => u.onend && u.onend(), 20); }, 5);
      };
    });
    await chair.goto(`${base}/attempts/${attempt}?q=0`);
    const expected = await chair.$$eval('form.question [data-say]', (els) => els.map((e) => (e.getAttribute('data-say') || e.textContent).replace(/\s+/g, ' ').trim()));
    assert.match(expected[1], /^(A，|正确)/, 'an option is read with its letter');
    await chair.click('form.question button.read-aloud');
    await chair.waitForFunction((n) => window.__spoken.length === n, expected.length);
    const spoken = await chair.evaluate(() => window.__spoken);
    assert.deepEqual(spoken.map((u) => u.text), expected);
    assert.ok(spoken.every((u) => u.lang === 'zh-CN'));

    // 长辈版: the options may run past the screen, but 保存，下一题 stays in reach at its bottom.
    await chair.context().addCookies([{ name: 'q_view', value: 'large', url: base }]);
    await chair.goto(`${base}/attempts/${attempt}?q=0`);
    const save = await chair.$eval('form.question button.save', (e) => { const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom }; });
    assert.ok(save.top >= 0 && save.bottom <= 844, `the save button is on screen in 长辈版: ${JSON.stringify(save)}`);
    await chair.screenshot({ path: shot('large') });
    found.push(...await audit(chair, 'the quiz question', 'large'));
    await chair.context().addCookies([{ name: 'q_view', value: 'standard', url: base }]);

    // The second question: a 上一题 link now stands before the dots.
    await chair.goto(`${base}/attempts/${attempt}?q=1`);
    await chair.waitForSelector('.qnav a.button');
    await chair.click('form.question label.option >> nth=0');
    await chair.waitForSelector('form.question .saved:not([hidden])');
    assert.equal(await chair.getAttribute('.qnav a.qdot[data-position="1"]', 'class'), 'qdot done');
    assert.equal(await chair.getAttribute('.qnav a.qdot[data-position="0"]', 'class'), 'qdot');
    assert.equal((await chair.textContent('#answered')).trim(), '1');
    await chair.screenshot({ path: shot('quiz'), fullPage: true });

    // Her result and the explanations pass the audit too, in both sizes.
    await Promise.all([chair.waitForNavigation(), chair.click('form.submit button[type=submit]')]);
    assert.ok(dialogs.some((m) => /交卷/.test(m)), `交卷 asked first: ${dialogs.join(' | ')}`);
    await chair.waitForSelector('.result');
    found.push(...await audit(chair, 'the result', undefined));
    await chair.context().addCookies([{ name: 'q_view', value: 'large', url: base }]);
    await chair.reload();
    found.push(...await audit(chair, 'the result', 'large'));
    await chair.screenshot({ path: shot('result-large'), fullPage: true });
    assert.deepEqual(found, [], found.join('\n'));
    assert.deepEqual(cspViolations, [], 'nothing is blocked by the Content-Security-Policy');
  } finally {
    await b.close();
  }
});

// A datetime-local value in Shanghai time, `minutes` from now.
function shanghai(minutes) {
  return new Date(Date.now() + minutes * 60_000 + 8 * 3_600_000).toISOString().slice(0, 16);
}

// A new session for the official's whole street with a one-question quiz and the default attendance gate
// (60%). It starts within the hour, before the demo session, so the official's home still lists the demo
// session first (where the tests above and shipped-questions.test.mjs look for it).
async function scheduleSession(official, title) {
  await official.goto(`${base}/sessions/new`);
  await official.fill('#f-title', title);
  await official.fill('#f-starts_at', shanghai(60));
  await official.fill('#f-ends_at', shanghai(150));
  await official.check('fieldset:has(input[name=lecturers]) label:has-text("刘建国") input');
  await official.check('input[name=invite][value=street]');
  await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]')]);
  const id = official.url().match(/\/sessions\/(\d+)$/)[1];
  await official.goto(`${base}/sessions/${id}/quiz`);
  await official.fill('input[name="topic:业主大会"]', '1');
  assert.equal(await official.inputValue('#f-attendance_gate'), '60');
  await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]:has-text("保存设置")')]);
  return id;
}

// Polls `check` until it returns something truthy.
async function until(what, check, timeout) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

// A chair who came in late is below the attendance gate when the quiz opens: she stays in the room with
// the explanation; a chair who arrives after the opening gets the quiz in the room's welcome. The quiz runs
// inside the room and attendance goes on while it is open, so by staying her minutes reach the gate, and
// the quiz frame (which asks again every cfg.gateRecheckMs, 30 s unless set) lets her in by itself.
test('a chair below the gate stays in the room and is let in once she reaches it; a late chair gets the quiz in the room', { timeout: 480_000 }, async () => {
  const b = await browser();
  try {
    const official = await signIn(b, '13900000002');
    const id = await scheduleSession(official, `出勤门槛 ${new Date().toISOString().slice(11, 19)}`);
    const room = `${base}/sessions/${id}/room`;

    // The lecture starts without her; she comes in 40 s late, and the quiz opens 5 s after that: she
    // has heard about a tenth of it, far below the 60 % gate.
    await official.goto(room);
    await official.waitForSelector('#conn[data-state=connected]');
    await official.click('#start');
    await official.waitForSelector('#live:not([hidden])');
    const started = Date.now();
    const chair = await signIn(b, '13900000101');
    await until('40 s of lecture without her', () => Date.now() - started > 40_000, 60_000);
    await chair.goto(room);
    await chair.waitForSelector('#live:not([hidden])', { timeout: 20_000 });
    await chair.waitForSelector('#conn[data-state=connected]');
    await until('5 s of her in the room', () => Date.now() - started > 45_000, 20_000);
    await official.click('#open-quiz');
    await official.waitForFunction(() => /在场/.test(document.getElementById('quiz-counter').textContent), null, { timeout: 20_000 });
    assert.equal(official.url(), room, 'the moderator is still in the room');

    // Below the gate: the quiz panel opens in the room with the plain explanation, not a 403 page.
    await chair.waitForSelector('#quiz-panel:not([hidden])', { timeout: 20_000 });
    const frameOf = (page) => page.frames().find((f) => f !== page.mainFrame() && /\/(quiz|attempts)\/\d+/.test(f.url()));
    const gate = await until('the quiz frame', () => frameOf(chair), 20_000);
    await gate.waitForSelector('[data-gate]');
    const why = await gate.textContent('main');
    assert.match(why, /需要听课时间达到 60%/, why);
    assert.equal(chair.url(), room, 'she stays in the room');
    await chair.screenshot({ path: (process.env.SCREENSHOT || '/tmp/room-chair.png').replace(/\.png$/, '-below-gate.png') });

    // A chair who comes in after the quiz opened gets it in the room's welcome (here: the gate, she heard
    // none of the lecture), signed in with the personal link the street office gave her.
    await official.goto(`${base}/street/chairs`);
    await Promise.all([official.waitForNavigation(), official.click('tr:has-text("13900000110") form button')]);
    const link = new URL((await official.textContent('.print-card .url')).trim()).pathname;
    const late = await (await b.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, userAgent: wechat })).newPage();
    await late.goto(`${base}${link}`);
    await Promise.all([late.waitForNavigation(), late.click('form.stack button.primary')]);
    await late.goto(room);
    await late.waitForSelector('#quiz-panel:not([hidden])', { timeout: 20_000 });
    const lateFrame = await until('the late chair\'s quiz frame', () => frameOf(late), 20_000);
    await lateFrame.waitForSelector('[data-gate]');
    assert.equal(late.url(), room);

    // The quiz runs inside the room and the lecture goes on: staying, her share grows (she reaches 60 %
    // about 55 s after the opening), and within a recheck (30 s) the frame shows the start of her quiz.
    const ready = await until('the frame to let her in', async () => {
      const f = frameOf(chair);
      return f && await f.locator('form[action$="/start"] button').count() > 0 ? f : null;
    }, 120_000);
    await Promise.all([ready.waitForNavigation(), ready.click('form[action$="/start"] button')]);
    await ready.waitForSelector('form.question label.option');
    assert.match(ready.url(), /\/attempts\/\d+/);
    assert.equal(chair.url(), room, 'she takes it in the room');
    await chair.screenshot({ path: (process.env.SCREENSHOT || '/tmp/room-chair.png').replace(/\.png$/, '-let-in.png') });
    assert.deepEqual(cspViolations, [], 'nothing is blocked by the Content-Security-Policy');
  } finally {
    await b.close();
  }
});
