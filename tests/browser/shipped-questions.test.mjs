// Every shipped question fits a phone's first screen (issue 17): on a 390×844 phone at the standard size, the
// stem and all the options of each question in question-banks/*.toml are on screen without scrolling. A quiz
// draws its questions at random, so room.test.mjs sees only a few; this test opens one real attempt page and
// puts each shipped question's text into it in turn, so the real page and stylesheet lay out every one.
//
// Runs after room.test.mjs (node --test runs the files in name order, one at a time, see .ci/run): it needs
// the demo quiz open, and opens it itself only if it is not (a fresh server with this file alone). It takes
// the quiz as a second invited chair, signed in with a personal link the official makes, so the first chair's
// attempt stays as room.test.mjs left it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.QUORUM_TEST_URL || 'http://127.0.0.1:8099';
const password = 'quorum-demo';
const shots = process.env.SCREENSHOT_DIR || '/tmp';
const banks = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'question-banks');
const wechat = 'Mozilla/5.0 (Linux; Android 12; V2055A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.5304.141 '
  + 'Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/1234 MicroMessenger/8.0.34.2340(0x28002237) '
  + 'WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64';
const screen = { width: 390, height: 844 };
// The chairs who may take the quiz here: invited to the demo session, no password (they sign in by link).
// The first whose attempt is open or can start is taken (a rerun on the same server finds the next).
const chairPhones = ['13900000102', '13900000103', '13900000104', '13900000108', '13900000109'];

// The questions of every bank file: id, kind, stem, options, and the line of each question's header. Reads
// the subset of TOML the banks are written in (one-line basic strings, options as an array of them); the
// count is checked against the [[question]] headers so that nothing is skipped unnoticed.
function shippedQuestions() {
  const out = [];
  for (const file of readdirSync(banks).filter((f) => f.endsWith('.toml')).sort()) {
    const text = readFileSync(join(banks, file), 'utf8');
    const headers = text.split('\n').filter((l) => l.trim() === '[[question]]').length;
    const blocks = text.split(/^\[\[question\]\][ \t]*$/m);
    let line = blocks[0].split('\n').length;
    for (const block of blocks.slice(1)) {
      const field = (name) => {
        const m = block.match(new RegExp(`^${name}\\s*=\\s*("(?:[^"\\\\]|\\\\.)*")`, 'm'));
        return m && JSON.parse(m[1]);
      };
      const opts = block.match(/^options\s*=\s*\[((?:[^\]"]|"(?:[^"\\]|\\.)*")*)\]/m);
      const options = opts ? [...opts[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`).trim()) : [];
      const [id, kind, stem] = [field('id'), field('kind'), field('stem')];
      assert.ok(id && kind && stem, `${file}:${line}: id, kind and stem read (one-line strings)`);
      out.push({ file, line, id, kind, stem: stem.trim(), options });
      line += block.split('\n').length - 1;
    }
    assert.equal(out.filter((q) => q.file === file).length, headers, `${file}: every question read`);
  }
  return out;
}

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

async function phone(b) {
  const ctx = await b.newContext({ viewport: screen, deviceScaleFactor: 2, hasTouch: true, userAgent: wechat });
  // The live room's client would join the room; only the quiz link on the room page is needed here.
  await ctx.route('**/static/js/room.js', (r) => r.abort());
  return ctx;
}

async function signIn(ctx, who) {
  const page = await ctx.newPage();
  await page.goto(`${base}/signin`);
  await page.fill('#f-identifier', who);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/signin"] button[type=submit]')]);
  // First sign-in: the personal-information notice, accepted once.
  if (new URL(page.url()).pathname === '/privacy') {
    await Promise.all([page.waitForNavigation(), page.click('form[action="/privacy"] button[type=submit]')]);
  }
  return page;
}

// The demo quiz, open to everyone in the room (what room.test.mjs leaves behind, done here if it is not).
async function openQuiz(official, session) {
  await official.goto(`${base}/sessions/${session}/quiz`);
  const open = official.locator('button.primary:has-text("开始随堂测试")');
  if (await open.count() === 0) return;
  await official.goto(`${base}/sessions/${session}/room`);
  const start = official.locator('#start');
  if (await start.count() > 0) await Promise.all([official.waitForNavigation(), start.click()]);
  await official.goto(`${base}/sessions/${session}/quiz`);
  await official.fill('#f-attendance_gate', '0');
  await Promise.all([official.waitForNavigation(), official.click('form.stack button.primary[type=submit]:has-text("保存设置")')]);
  await Promise.all([official.waitForNavigation(), official.click('button:has-text("开始随堂测试")')]);
}

// A one-question-per-screen attempt page, as a chair other than the one room.test.mjs takes the quiz as.
async function attemptPage(b) {
  const official = await signIn(await phone(b), '13900000002');
  await official.goto(`${base}/`);
  const session = (await official.getAttribute('ul.cards a', 'href')).match(/\/sessions\/(\d+)/)[1];
  await openQuiz(official, session);
  for (const who of chairPhones) {
    await official.goto(`${base}/street/chairs`);
    await Promise.all([official.waitForNavigation(), official.click(`tr:has-text("${who}") form button`)]);
    const link = new URL((await official.textContent('.print-card .url')).trim()).pathname;
    const chair = await (await phone(b)).newPage();
    await chair.goto(`${base}${link}`);
    await Promise.all([chair.waitForNavigation(), chair.click('form.stack button.primary')]);
    await chair.goto(`${base}/sessions/${session}/room`);
    await chair.goto(`${base}${await chair.getAttribute('#quiz-link a', 'href')}`);
    const start = chair.locator('form[action$="/start"] button');
    if (!/\/attempts\/\d+/.test(chair.url()) && await start.count() > 0) {
      await Promise.all([chair.waitForNavigation(), start.click()]);
    }
    if (/\/attempts\/\d+/.test(chair.url())) await chair.goto(`${chair.url().split('?')[0]}?q=0`);
    // A submitted attempt shows its result instead.
    if (await chair.locator('form.question label.option').count() === 0) {
      await chair.context().close();
      continue;
    }
    // The clock in words is part of the first screen.
    await chair.waitForFunction(() => /^还剩 \d+ 分 \d+ 秒$/.test(document.getElementById('remaining').textContent));
    return chair;
  }
  throw new Error(`none of ${chairPhones.join(', ')} can take the demo quiz any more: restart the server`);
}

// Lays out each question in the page's form (its stem, its options as the server renders them) and measures
// where the stem starts and the last option ends, plus each part's height for the validator's estimate.
function measureAll(questions) {
  const kinds = { single: '单选题', multiple: '多选题', true_false: '判断题' };
  const form = document.querySelector('form.question');
  const fieldset = form.querySelector('fieldset');
  const template = fieldset.querySelector('label.option').cloneNode(true);
  template.classList.remove('chosen');
  const box = (e) => e.getBoundingClientRect();
  return questions.map((q) => {
    fieldset.querySelectorAll('label.option').forEach((l) => l.remove());
    form.querySelector('.stem').textContent = q.stem;
    fieldset.querySelector('legend .meta').textContent = kinds[q.kind];
    const texts = q.kind === 'true_false' ? ['正确', '错误'] : q.options;
    texts.forEach((t, i) => {
      const label = template.cloneNode(true);
      const input = label.querySelector('input');
      input.type = q.kind === 'multiple' ? 'checkbox' : 'radio';
      input.checked = false;
      const otext = label.querySelector('.otext');
      otext.textContent = '';
      if (q.kind === 'true_false') {
        otext.append(t);
      } else {
        const letter = document.createElement('span');
        letter.className = 'letter';
        letter.textContent = String.fromCharCode(65 + i);
        otext.append(letter, ` ${t}`);
      }
      label.setAttribute('data-say', `${String.fromCharCode(65 + i)}，${t}`);
      fieldset.append(label);
    });
    window.scrollTo(0, 0);
    const stem = box(form.querySelector('.stem'));
    const options = [...fieldset.querySelectorAll('label.option')].map((l) => Math.round(box(l).height));
    const last = box(fieldset.querySelector('label.option:last-of-type'));
    return { id: q.id, top: Math.round(stem.top), stem: Math.round(stem.height), options, bottom: Math.round(last.bottom) };
  });
}

test('every shipped question and all its options fit the first screen of a 390×844 phone', { timeout: 180_000 }, async () => {
  const questions = shippedQuestions();
  assert.ok(questions.length >= 100, `${questions.length} questions read from ${banks}`);
  const b = await launch();
  try {
    const chair = await attemptPage(b);
    // The question as the server drew it: laid out here from its file, it must end where the server's did.
    const drawn = await chair.evaluate(() => ({
      stem: document.querySelector('form.question .stem').textContent.trim(),
      bottom: Math.round(document.querySelector('form.question label.option:last-of-type').getBoundingClientRect().bottom),
    }));
    const sizes = await chair.evaluate(measureAll, questions);
    const same = sizes[questions.findIndex((q) => q.stem === drawn.stem)];
    assert.ok(same, `the drawn question is a shipped one: ${drawn.stem}`);
    assert.equal(same.bottom, drawn.bottom, `${same.id} laid out from its file ends where the server's page does`);
    writeFileSync(`${shots}/question-fit.json`, JSON.stringify(sizes, null, 1));
    const where = new Map(questions.map((q) => [q.id, `${q.file}:${q.line}`]));
    const over = sizes.filter((s) => s.bottom > screen.height)
      .map((s) => `${s.id} (${where.get(s.id)}): ${s.bottom - screen.height} px past the screen`);
    const tightest = [...sizes].sort((x, y) => y.bottom - x.bottom).slice(0, 5).map((s) => `${s.id} ${s.bottom}`);
    console.log(`${sizes.length - over.length} of ${sizes.length} questions fit; lowest last options: ${tightest.join(', ')}`);
    const lowest = sizes.reduce((x, y) => (y.bottom > x.bottom ? y : x));
    await chair.evaluate(measureAll, [questions.find((q) => q.id === lowest.id)]);
    await chair.screenshot({ path: `${shots}/question-fit-lowest.png` });
    // The page's own layout around the question, so a change there shows here first.
    assert.ok(sizes.every((s) => s.top <= 190), 'the stem starts near the top');
    assert.deepEqual(over, [], `questions that do not fit the first screen:\n${over.join('\n')}`);
  } finally {
    await b.close();
  }
});
