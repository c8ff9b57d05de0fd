// Browser test of the live room: Debian's headless Chromium with a fake camera. An official starts the
// demo session, the lecturer publishes, a chair watches: the chair's getStats() must show framesDecoded
// rising. Run by .ci/run against a freshly started server (QUORUM_TEST_URL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.env.QUORUM_TEST_URL || 'http://127.0.0.1:8099';
const password = 'quorum-demo';

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

async function signIn(b, phone) {
  const ctx = await b.newContext({ viewport: { width: 390, height: 844 }, permissions: ['camera', 'microphone'] });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`[${phone}] page error: ${e.message}`));
  await page.goto(`${base}/signin`);
  await page.fill('#f-identifier', phone);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForNavigation(), page.click('form.stack button[type=submit]')]);
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
  } finally {
    await b.close();
  }
});
