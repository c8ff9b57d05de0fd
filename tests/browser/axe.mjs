// axe-core run inside a page, shared by the browser tests. Not a test file itself.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The serious and critical violations on the page as it stands, one line each (empty: none). WCAG 2.1 A/AA
// and best practice (landmarks, one main, headings); in high contrast also the 7:1 rule (a WCAG AAA tag).
export async function audit(page, label, view) {
  // Injected through the debugging protocol: the page's Content-Security-Policy allows no inline script.
  await page.evaluate(axeSource);
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
  if (view === 'contrast') tags.push('wcag2aaa');
  const result = await page.evaluate((values) => window.axe.run(document, { runOnly: { type: 'tag', values } }), tags);
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${view || 'standard'} ${label}: ${v.id} (${v.impact}) ${v.help}\n    `
      + v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} — ${(n.failureSummary || '').replace(/\s+/g, ' ')}`).join('\n    '));
}
