// One console scenario in a real browser: node run.mjs <scenario>
// The harness (tests/console_e2e_test.cpp) names its settings in the file
// $CORDON_CONSOLE_E2E: {baseUrl, certFile, keyFile, tokens: {role: token},
// screenshots, args}. Exit 0 when the scenario passed and nothing forbidden
// happened on the way (lib/browser.mjs), 1 otherwise, 2 on a usage error.
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launch } from './lib/browser.mjs';
import { ScenarioFailure, check } from './lib/check.mjs';
import { startFakeIdentities } from './lib/fake_identities.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const name = process.argv[2] ?? '';
if (!/^[a-z-]+$/.test(name) || !process.env.CORDON_CONSOLE_E2E) {
  console.error('usage: CORDON_CONSOLE_E2E=settings.json node run.mjs <scenario>');
  process.exit(2);
}
const config = JSON.parse(await readFile(process.env.CORDON_CONSOLE_E2E, 'utf8'));
const scenario = (await import(path.join(here, 'scenarios', `${name}.mjs`))).default;

// Until the identity routes are served by cordon itself, a stand-in answers
// them in front of it; everything else reaches the real server.
const fake = await startFakeIdentities({
  upstream: config.baseUrl,
  certFile: config.certFile,
  keyFile: config.keyFile,
  tokens: config.tokens,
});
await rm(path.join(config.screenshots, `failed-${name}.png`), { force: true });
const browser = await launch({ certFile: config.certFile, secrets: Object.values(config.tokens) });
const { page } = browser;
page.setDefaultTimeout(20000);

const t = {
  ...browser,
  config,
  args: config.args ?? {},
  base: fake.url,
  people: fake.people,
  async shot(file) {
    await mkdir(config.screenshots, { recursive: true });
    await page.screenshot({ path: path.join(config.screenshots, `${file}.png`) });
  },
  async signIn(role) {
    const token = config.tokens[role];
    check(token, `no token for ${role}`);
    await page.goto(`${fake.url}/console/`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.who', { hasText: role }).waitFor();
  },
  // The element that has the focus, as "tag#id.class" and its text.
  focused: () =>
    page.evaluate(() => {
      const e = document.activeElement;
      return e ? { tag: e.tagName.toLowerCase(), id: e.id, text: (e.textContent ?? '').trim(), inDialog: !!e.closest('[role=dialog]'), dialogs: document.querySelectorAll('[role=dialog]').length } : null;
    }),
};

let failed = false;
try {
  await scenario(t);
  const problems = browser.problems();
  for (const p of problems) console.error(`FAIL: ${p}`);
  failed = problems.length > 0;
} catch (error) {
  failed = true;
  console.error(`FAIL: ${error.message}`);
  if (!(error instanceof ScenarioFailure)) console.error(error.stack);
  await t.shot(`failed-${name}`).catch(() => undefined);
} finally {
  await browser.close();
  await fake.close();
}
console.log(`${name}: ${failed ? 'failed' : 'passed'} (${browser.urls.length} requests)`);
process.exit(failed ? 1 : 0);
