// Accessibility audit of every kind of page, on a chair's phone, in the standard view, in 长辈版 (large
// type) and in 长辈版 with high contrast: axe-core inside Debian's Chromium must find no serious or critical
// violation (WCAG 2.1 A/AA and best practice; in high contrast also the 7:1 contrast rule). Plus the
// 长辈版 type sizes as the browser computes them, and the read-aloud button's speech, observed in the page.
//
// Read-only towards the demo data: it starts no session, opens no quiz, and keeps the room's script from
// connecting (so it does not join the room as the chair room.test.mjs watches with). 长辈版 is set with the
// phone's cookie, never on an account. .ci/run runs the test files one after the other all the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { audit as auditPage } from './axe.mjs';

const base = process.env.QUORUM_TEST_URL || 'http://127.0.0.1:8099';
const password = 'quorum-demo';
const shots = process.env.SCREENSHOT_DIR || '/tmp';
const wechat = 'Mozilla/5.0 (Linux; Android 12; V2055A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.5304.141 '
  + 'Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/1234 MicroMessenger/8.0.34.2340(0x28002237) '
  + 'WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64';

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// A phone in WeChat, with the display preference in its cookie (undefined: the standard view).
async function phone(b, view) {
  const ctx = await b.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true, userAgent: wechat });
  if (view) await ctx.addCookies([{ name: 'q_view', value: view, url: base }]);
  // The live room's client would join the room; the audit looks at the page, not the call.
  await ctx.route('**/static/js/room.js', (r) => r.abort());
  return ctx;
}

async function signIn(ctx, who) {
  const page = await ctx.newPage();
  if (!who) return page;
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

async function audit(page, path, view) {
  await page.goto(`${base}${path}`);
  return auditPage(page, path, view);
}

async function firstLink(page, path, pattern) {
  await page.goto(`${base}${path}`);
  const hrefs = await page.$$eval('main a', (as) => as.map((a) => a.getAttribute('href')));
  return hrefs.find((h) => pattern.test(h || ''));
}

test('every kind of page passes axe in the standard view, 长辈版 and high contrast', { timeout: 300_000 }, async () => {
  const b = await launch();
  const found = [];
  try {
    // The pages with ids, found once as the people who can see them.
    const probe = await b.newContext();
    const official = await signIn(probe, '13900000002');
    const session = (await firstLink(official, '/sessions', /^\/sessions\/\d+$/)) || '/sessions';
    const lawyer = await signIn(await b.newContext(), '13900000003');
    const bank = (await firstLink(lawyer, '/banks', /^\/banks\/\d+$/)) || '/banks';
    const question = (await firstLink(lawyer, bank, /^\/questions\/\d+$/)) || bank;
    // The group link the official pastes into the chairs' WeChat group (signed out: the training and the
    // SMS sign-in).
    await official.goto(`${base}${session}`);
    const invite = new URL((await official.textContent('p.url code')).trim()).pathname;
    await probe.close();

    const roles = [
      [null, ['/', '/signin', '/signin/code', invite, '/verify', '/verify/NO-SUCH-CODE', '/no/such/page', `${session}/room`, '/privacy']],
      ['13900000101', ['/', `${session}/room`, '/account/password', '/admin/org', '/me/data']],
      ['13900000002', ['/', '/sessions', session, '/sessions/new', `${session}/quiz`, `${session}/report`,
        '/street/dashboard', '/street/mistakes', '/street/chairs', '/street/roster']],
      // The district's official: the dashboard from 区 down, what the district gets wrong.
      ['13900000004', ['/street/dashboard', '/street/mistakes']],
      ['13900000003', ['/', '/banks', bank, question, '/banks/analysis', '/banks/review']],
      ['13900000001', ['/', '/admin/org', '/admin/people', '/admin/people/new', '/admin/audit']],
    ];
    for (const view of [undefined, 'large', 'contrast']) {
      for (const [who, paths] of roles) {
        const ctx = await phone(b, view);
        const page = await signIn(ctx, who);
        for (const path of paths) found.push(...await audit(page, path, view));
        if (who === '13900000002') await page.screenshot({ path: `${shots}/a11y-dashboard-${view || 'standard'}.png`, fullPage: true });
        await ctx.close();
      }
    }
  } finally {
    await b.close();
  }
  assert.deepEqual(found, [], found.join('\n'));
});

// The quiz's question stems (30px and more) are checked in room.test.mjs, which opens a quiz.
test('长辈版: type at least 24px, nothing under 20px, line height at least 1.3, paragraphs apart', { timeout: 60_000 }, async () => {
  const b = await launch();
  try {
    const ctx = await phone(b, 'large');
    const page = await signIn(ctx, '13900000003');
    const bank = await firstLink(page, '/banks', /^\/banks\/\d+$/);
    const question = await firstLink(page, bank, /^\/questions\/\d+$/);
    for (const path of ['/', bank, question]) {
      await page.goto(`${base}${path}`);
      const m = await page.evaluate(() => {
        const css = (el) => getComputedStyle(el);
        const px = (v) => parseFloat(v);
        const body = css(document.body);
        const texts = [...document.querySelectorAll('body *')]
          .filter((e) => e.offsetParent && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()));
        return {
          cls: document.documentElement.className,
          body: px(body.fontSize),
          bodyLine: px(body.lineHeight) / px(body.fontSize),
          lines: Math.min(...texts.map((e) => (css(e).lineHeight === 'normal' ? 1.2 : px(css(e).lineHeight) / px(css(e).fontSize)))),
          paraGap: Math.min(...[...document.querySelectorAll('main p')].filter((p) => p.offsetParent && p.nextElementSibling)
            .map((p) => px(css(p).marginBottom))),
          smallest: Math.min(...texts.map((e) => px(css(e).fontSize))),
          smallestText: (texts.sort((a, b) => px(css(a).fontSize) - px(css(b).fontSize))[0] || {}).textContent,
        };
      });
      assert.match(m.cls, /view-large/);
      assert.ok(m.body >= 24, `${path}: body ${m.body}px`);
      assert.ok(m.bodyLine >= 1.3, `${path}: body line height ${m.bodyLine}`);
      assert.ok(m.lines >= 1.3, `${path}: a line height of ${m.lines}`);
      assert.ok(m.paraGap >= 0.6 * m.body, `${path}: paragraph spacing ${m.paraGap}px`);
      assert.ok(m.smallest >= 20, `${path}: the smallest text is ${m.smallest}px (${m.smallestText})`);
    }
    await page.screenshot({ path: `${shots}/a11y-question-large.png`, fullPage: true });
  } finally {
    await b.close();
  }
});

test('the read-aloud button speaks the next step in Chinese, and says so when there is no Chinese voice', { timeout: 60_000 }, async () => {
  const b = await launch();
  try {
    const ctx = await phone(b);
    // The page's speech engine, observed: what it was asked to say and in which language.
    await ctx.addInitScript(() => {
      window.__spoken = [];
      const synth = window.speechSynthesis;
      synth.getVoices = () => (window.__voices || []);
      synth.speak = (u) => {
        window.__spoken.push({ text: u.text, lang: u.lang, reading: (document.querySelector('.reading') || {}).textContent || '' });
        setTimeout(() => { u.onstart && u.onstart(); setTimeout(() => u.onend && u.onend(), 50); }, 10);
      };
      synth.cancel = () => {};
    });
    const page = await signIn(ctx, '13900000101');
    await page.goto(`${base}/`);
    const button = page.locator('#next-step button.read-aloud');
    await button.waitFor({ state: 'visible' });
    const expected = (await page.textContent('#next-step p')).replace(/\s+/g, ' ').trim();
    await button.click();
    await page.waitForFunction(() => window.__spoken.length > 0);
    const spoken = await page.evaluate(() => window.__spoken);
    assert.equal(spoken[0].text, expected);
    assert.equal(spoken[0].lang, 'zh-CN');
    assert.ok(expected.startsWith('下一步'), expected);
    assert.equal(spoken[0].reading.replace(/\s+/g, ' ').trim(), expected, 'what is read is highlighted');
    // Done: the highlight goes and the button reads 朗读 again.
    await page.waitForFunction(() => !document.querySelector('.reading'));
    assert.match(await button.textContent(), /朗读/);

    // A phone whose voices are all English: the button says there is no Chinese voice.
    await page.evaluate(() => { window.__voices = [{ lang: 'en-US', name: 'English' }]; window.__spoken = []; });
    await button.click();
    assert.match(await button.textContent(), /没有中文语音/);
    assert.equal(await page.evaluate(() => window.__spoken.length), 0);

    // No speech engine at all: it says that.
    const bare = await phone(b);
    await bare.addInitScript(() => {
      Object.defineProperty(window, 'speechSynthesis', { value: undefined, configurable: true });
      Object.defineProperty(window, 'SpeechSynthesisUtterance', { value: undefined, configurable: true });
    });
    const p2 = await signIn(bare, '13900000101');
    await p2.goto(`${base}/`);
    await p2.click('#next-step button.read-aloud');
    assert.match(await p2.textContent('#next-step button.read-aloud'), /不能朗读/);
    await p2.screenshot({ path: `${shots}/a11y-home-no-speech.png` });

    // Without JavaScript there is no button to press.
    const nojs = await b.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const p3 = await signIn(nojs, '13900000101');
    await p3.goto(`${base}/`);
    assert.equal(await p3.isVisible('#next-step button.read-aloud'), false);
  } finally {
    await b.close();
  }
});
