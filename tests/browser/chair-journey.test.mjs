// A chair's whole journey on her phone inside WeChat (issue 12): an imported chair who has no password taps
// the group link the street office pasted into the chairs' WeChat group, signs in with the SMS code (read
// from the server's `sms/` folder, one file per message: her number on the first line, the text after it),
// waits in the lobby, watches the lecture (frames decoding), takes the quiz inside the room while the
// lecture keeps decoding, passes, and later finds her result and certificate from home.
//
// Runs against a running server (QUORUM_TEST_URL) whose SMS folder it must read: QUORUM_SMS_DIR, or `sms/`
// under QUORUM_VAR_DIR (the server's QUORUM__PATHS__VAR_DIR). In .ci/run the browser tier's SCREENSHOT_DIR
// is that var dir too, so it is the last fallback.
//
// It schedules its own session rather than driving the demo one: node --test runs the files in name order,
// and room.test.mjs (after this file) starts the demo session and opens its quiz itself. The new session
// starts earlier than the demo one, so the official's home still lists the demo session first, where
// room.test.mjs and shipped-questions.test.mjs look for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { audit } from './axe.mjs';

const base = process.env.QUORUM_TEST_URL || 'http://127.0.0.1:8099';
const password = 'quorum-demo';
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const smsDir = process.env.QUORUM_SMS_DIR
  || join(process.env.QUORUM_VAR_DIR || process.env.SCREENSHOT_DIR || join(repo, 'var'), 'sms');
// Screenshots of each step on the phone, to look at: /tmp/journey-*.png (SCREENSHOT_DIR in .ci/run).
const shot = (name) => `${process.env.SCREENSHOT_DIR || '/tmp'}/journey-${name}.png`;
const screen = { width: 390, height: 844 };
// An Android phone's WeChat in-app browser.
const wechat = 'Mozilla/5.0 (Linux; Android 13; PGT-AN10 Build/HONORPGT-AN10; wv) AppleWebKit/537.36 (KHTML, like Gecko) '
  + 'Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2157 '
  + 'MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64';
// 徐丽娟: imported by the demo roster without a password (only the first demo chair has one), on the
// committee of 东方城市花园 in 花木街道, the official's street, so a street-wide invitation reaches her.
// Not one of the chairs shipped-questions.test.mjs takes the demo quiz as.
const chairPhone = '13900000111';
const chairName = '徐丽娟';

// Anything the Content-Security-Policy blocks fails the test: Chromium reports it on the console.
const cspViolations = [];
// What window.confirm asked (交卷): accepted, and kept for the assertions.
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

function watch(page, who) {
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
  page.on('pageerror', (e) => console.log(`[${who}] page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) cspViolations.push(`[${who}] ${m.text()}`);
  });
  return page;
}

// Staff sign in with their password, on a laptop-sized window.
async function staff(b, phone) {
  const ctx = await b.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['camera', 'microphone'] });
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

// The chair's phone: nobody signed in yet.
async function phone(b) {
  const ctx = await b.newContext({
    viewport: screen, deviceScaleFactor: 2, hasTouch: true, isMobile: true, userAgent: wechat,
    permissions: ['camera', 'microphone'],
  });
  return watch(await ctx.newPage(), chairPhone);
}

// Polls `check` until it returns something truthy (a wait for a condition, never a fixed sleep).
async function until(what, check, { timeout = 30_000, every = 250 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

function smsFiles() {
  try {
    return readdirSync(smsDir).filter((f) => /^sms-\d+\.txt$/.test(f)).sort();
  } catch {
    return [];
  }
}

// The code in the newest text to `to` among the files that were not there `before`; the SMS outbox is
// drained by a worker every second, so the file comes a moment after the page answers.
async function smsCode(to, before) {
  const seen = new Set(before);
  return until(`a text to ${to} in ${smsDir}`, () => {
    for (const f of smsFiles().filter((n) => !seen.has(n)).reverse()) {
      const [number, ...text] = readFileSync(join(smsDir, f), 'utf8').split('\n');
      if (number.trim() !== to) continue;
      const code = text.join('\n').match(/验证码是\s*(\d{6})/);
      assert.ok(code, `the text holds a 6-digit code: ${text.join(' ')}`);
      return code[1];
    }
    return null;
  }, { timeout: 30_000 });
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

// Frames keep coming: at least `more` new ones decoded within the time limit.
async function framesRise(page, more, what) {
  const from = await framesDecoded(page);
  const to = await until(`${what}: ${more} more frames than ${from}`, async () => {
    const n = await framesDecoded(page);
    return n >= from + more ? n : null;
  }, { timeout: 30_000, every: 500 });
  return [from, to];
}

// The answer key, by question stem: the right options as text (true/false as 正确/错误), read from the
// shipped bank files (one-line basic strings, options as an array of them, see question-banks/FORMAT.md).
function answerKey() {
  const banks = join(repo, 'question-banks');
  const key = new Map();
  for (const file of readdirSync(banks).filter((f) => f.endsWith('.toml'))) {
    const blocks = readFileSync(join(banks, file), 'utf8').split(/^\[\[question\]\][ \t]*$/m).slice(1);
    for (const block of blocks) {
      const str = (name) => {
        const m = block.match(new RegExp(`^${name}\\s*=\\s*("(?:[^"\\\\]|\\\\.)*")`, 'm'));
        return m && JSON.parse(m[1]).trim();
      };
      const opts = block.match(/^options\s*=\s*\[((?:[^\]"]|"(?:[^"\\]|\\.)*")*)\]/m);
      const options = opts ? [...opts[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`).trim()) : [];
      const raw = block.match(/^answer\s*=\s*(\[[^\]]*\]|"[A-Z]"|true|false)/m);
      assert.ok(raw, `${file}: ${str('id')} has an answer`);
      const answer = JSON.parse(raw[1]);
      const right = typeof answer === 'boolean'
        ? [answer ? '正确' : '错误']
        : [].concat(answer).map((l) => options[l.charCodeAt(0) - 65]);
      key.set(str('stem'), { id: str('id'), right });
    }
  }
  return key;
}

// A datetime-local value in Shanghai time, `minutes` from now.
function shanghai(minutes) {
  return new Date(Date.now() + minutes * 60_000 + 8 * 3_600_000).toISOString().slice(0, 16);
}

test('a chair without a password goes from the WeChat group link to her certificate', { timeout: 360_000 }, async () => {
  const key = answerKey();
  const b = await browser();
  try {
    // 1. The official schedules a session for her whole street, lectured by the demo lawyer, with a short
    //    quiz (the default attendance gate, 60%, stays: the chair is in the room from the start).
    const official = await staff(b, '13900000002');
    const title = `手机微信全流程 ${new Date().toISOString().slice(11, 19)}`;
    await official.goto(`${base}/sessions/new`);
    await official.fill('#f-title', title);
    await official.fill('#f-starts_at', shanghai(120));
    await official.fill('#f-ends_at', shanghai(210));
    await official.check('fieldset:has(input[name=lecturers]) label:has-text("刘建国") input');
    await official.check('input[name=invite][value=street]');
    await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]')]);
    const session = official.url().match(/\/sessions\/(\d+)$/)?.[1];
    assert.ok(session, `the new session's page: ${official.url()}`);
    const room = `${base}/sessions/${session}/room`;
    // The group link as the page shows it, and as the 复制邀请 text ends.
    const link = (await official.textContent('p.url code')).trim();
    const group = new URL(link).pathname;
    assert.match(group, /^\/s\/[\w-]+$/, link);
    const invitation = await official.inputValue('#invitation-text');
    assert.ok(invitation.includes(title) && invitation.trim().endsWith(link), invitation);

    await official.goto(`${base}/sessions/${session}/quiz`);
    await official.fill('input[name="topic:业主大会"]', '2');
    await official.fill('input[name="topic:业委会组建与换届改选"]', '1');
    assert.equal(await official.inputValue('#f-attendance_gate'), '60');
    await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]:has-text("保存设置")')]);
    await official.waitForSelector('.notice:has-text("已保存")');

    // 2. The chair taps the link in the group: which training, when, and the SMS form right there.
    const chair = await phone(b);
    await chair.goto(`${base}${group}`);
    assert.equal((await chair.textContent('h1')).trim(), title);
    const facts = await chair.textContent('dl.facts');
    assert.ok(/花木街道/.test(facts) && /刘建国/.test(facts) && /北京时间/.test(facts), facts);
    assert.equal(await chair.locator('#f-password').count(), 0, 'no password form in her way');
    await chair.screenshot({ path: shot('1-group-link'), fullPage: true });
    await chair.fill('#f-phone', chairPhone);
    const before = smsFiles();
    await Promise.all([chair.waitForNavigation(), chair.click('form[action="/signin/code/send"] button[type=submit]')]);
    await chair.waitForSelector('#f-code');
    // A rerun against the same server within a minute is refused (one code a minute per number).
    const sent = await chair.textContent('.notice');
    assert.match(sent, /验证码短信已发送到 139\*{4}0111/, 'the code was sent (a rerun needs a fresh server or a minute\'s wait)');
    await chair.screenshot({ path: shot('2-code-form'), fullPage: true });
    const code = await smsCode(chairPhone, before);
    await chair.fill('#f-code', code);
    await Promise.all([chair.waitForNavigation(), chair.click('form[action="/signin/code"] button[type=submit]')]);
    // Her first sign-in: the personal-information notice, read and accepted, then on to the room.
    assert.equal(new URL(chair.url()).pathname, '/privacy', 'the notice comes before the room');
    assert.match(await chair.textContent('main'), /收集哪些信息/);
    await chair.screenshot({ path: shot('2b-notice'), fullPage: true });
    await Promise.all([chair.waitForNavigation(), chair.click('form[action="/privacy"] button[type=submit]')]);
    assert.equal(chair.url(), room, 'signed in, she is in this session\'s room');

    // She waits in the lobby; the page is connected, so her attendance counts from the start.
    await chair.waitForSelector('#lobby:not([hidden])');
    await chair.waitForSelector('#conn[data-state=connected]');
    await chair.screenshot({ path: shot('3-lobby'), fullPage: true });

    // 3. The official starts the session, the lecturer turns on the (fake) camera; the chair's page goes
    //    live by itself and decodes the lecture.
    await official.goto(room);
    await official.waitForSelector('#conn[data-state=connected]');
    await official.click('#start');
    await official.waitForSelector('#live:not([hidden])');
    await chair.waitForSelector('#live:not([hidden])', { timeout: 20_000 });

    const lawyer = await staff(b, '13900000003');
    await lawyer.goto(room);
    await lawyer.waitForSelector('#live:not([hidden])');
    await lawyer.click('#publish-camera');
    const watching = await framesRise(chair, 20, 'the chair watches the lecture');
    await chair.screenshot({ path: shot('4-watching') });

    // 4. The official opens the quiz from the room and stays there, seeing the counter.
    await official.click('#open-quiz');
    await official.waitForFunction(() => /在场/.test(document.getElementById('quiz-counter').textContent), null, { timeout: 20_000 });
    assert.equal(official.url(), room, 'the moderator is still in the room');

    // The quiz comes to her inside the room, the lecture decoding underneath.
    await chair.waitForSelector('#quiz-panel:not([hidden])', { timeout: 20_000 });
    assert.equal(chair.url(), room, 'the chair is still in the room');
    const quiz = await until('the quiz frame to hold her attempt', () => chair.frames().find((f) => /\/attempts\/\d+/.test(f.url())));
    await quiz.waitForSelector('form.question label.option');
    await chair.screenshot({ path: shot('5-quiz-in-room') });
    const during = await framesRise(chair, 20, 'frames keep decoding during the quiz');

    // She answers each question right (the key by stem from the bank files) and saves it.
    const total = await quiz.locator('.qnav a.qdot').count();
    assert.equal(total, 3, 'the blueprint draws three questions');
    const asked = [];
    for (let q = 0; q < total; q++) {
      const stem = (await quiz.textContent('form.question .stem')).trim();
      const entry = key.get(stem);
      assert.ok(entry, `question ${q + 1} is a shipped one: ${stem}`);
      asked.push(entry.id);
      for (const right of entry.right) {
        const option = quiz.locator('form.question label.option').filter({
          has: quiz.locator('input'),
          hasText: right,
        });
        // An option's text can be part of another's: the one whose own text is exactly it.
        const texts = await option.evaluateAll((ls) => ls.map((l) => {
          const say = l.getAttribute('data-say');
          return say ? say.replace(/^[A-Z]，/, '').trim() : l.textContent.replace(/✓ 已选/, '').trim();
        }));
        const at = texts.indexOf(right);
        assert.ok(at >= 0, `question ${q + 1} (${entry.id}) offers "${right}": ${texts.join(' | ')}`);
        await option.nth(at).click();
      }
      if (q === 0) await chair.screenshot({ path: shot('6-answered-in-room') });
      await Promise.all([quiz.waitForNavigation(), quiz.click('form.question button.save')]);
    }
    assert.equal((await quiz.textContent('#answered')).trim(), String(total), `all answered (${asked.join(', ')})`);

    // 交卷 asks first, with nothing left unanswered; the result shows in the frame.
    dialogs.length = 0;
    await Promise.all([quiz.waitForNavigation(), quiz.click('form.submit button[type=submit]')]);
    assert.ok(dialogs.length === 1 && /确定交卷/.test(dialogs[0]) && !/还没有作答/.test(dialogs[0]), dialogs.join(' | '));
    await quiz.waitForSelector('.result');
    assert.equal((await quiz.textContent('.result .score')).trim(), `${total} / ${total}`);
    assert.equal((await quiz.textContent('.result .verdict')).trim(), '合格！');
    assert.equal(chair.url(), room, 'she took the whole quiz without leaving the room');
    const resultUrl = quiz.url();
    const after = await framesRise(chair, 20, 'the lecture still plays after 交卷');
    await chair.screenshot({ path: shot('7-result-in-room') });
    console.log(`frames: watching ${watching.join('→')}, quiz ${during.join('→')}, after ${after.join('→')}; questions ${asked.join(', ')}`);

    // 5. Later, from home, she finds her result and her certificate.
    await chair.goto(`${base}/`);
    await chair.screenshot({ path: shot('8-home'), fullPage: true });
    // Her training record on home: attendance, the result with its explanations, the certificate page.
    const card = chair.locator('ul.cards.trainings li.card').filter({ hasText: title });
    assert.equal(await card.count(), 1, 'this training is on her record');
    assert.match(await card.locator('dd.attendance').textContent(), /分钟（\d+%）/, 'attendance in minutes and percent');
    assert.equal((await card.locator('dd.quiz .verdict').textContent()).trim(), '通过');
    const resultLink = await card.locator('dd.quiz a[href^="/attempts/"]').getAttribute('href');
    assert.equal(new URL(resultUrl).pathname, resultLink, 'the record leads to the result she saw');
    const certPage = await card.locator('dd.certificate a[href^="/certificates/"]').getAttribute('href');
    assert.match(certPage, /^\/certificates\/\d+$/, 'a certificate page, not only a file');
    await chair.goto(`${base}${certPage}`);
    const picture = await chair.locator('img[src$=".png"]').first().getAttribute('src');
    const png = await chair.request.get(`${base}${picture}`);
    assert.equal(png.status(), 200);
    assert.equal(png.headers()['content-type'], 'image/png', 'a picture WeChat can show and save');
    await chair.screenshot({ path: shot('9-certificate'), fullPage: true });
    // The pages only a chair with a record reaches (the demo has none): axe on her home, her certificate
    // and her result, as a11y.test.mjs audits the rest.
    const violations = [...await audit(chair, 'certificate page')];
    await chair.goto(`${base}/`);
    violations.push(...await audit(chair, 'home with a training record'));
    await chair.goto(`${base}${resultLink}`);
    violations.push(...await audit(chair, 'result page'));
    assert.deepEqual(violations, [], violations.join('\n'));
    await chair.goto(`${base}${certPage}`);
    const verify = await chair.locator('a[href^="/verify/"]').first().getAttribute('href');
    await chair.goto(`${base}${verify}`);
    await chair.waitForSelector('.notice.ok:has-text("证书有效")');
    const verified = await chair.textContent('dl.facts');
    assert.ok(verified.includes(title) && verified.includes('东方城市花园业主委员会') && verified.includes(chairName[0]),
      `the public page names the training and her committee (her name masked): ${verified}`);
    await chair.screenshot({ path: shot('10-verified'), fullPage: true });
    // Her result stays where the quiz left it.
    await chair.goto(resultUrl);
    assert.equal((await chair.textContent('.result .verdict')).trim(), '合格！');

    assert.deepEqual(cspViolations, [], 'nothing is blocked by the Content-Security-Policy');
  } finally {
    await b.close();
  }
});
