// One console scenario in a real browser: node run.mjs <scenario>
// The harness (tests/console_e2e_test.cpp) names its settings in the file
// $CORDON_CONSOLE_E2E: {baseUrl, certFile, tokens: {role: token},
// screenshots, args}. Exit 0 when the scenario passed and nothing forbidden
// happened on the way (lib/browser.mjs), 1 otherwise, 2 on a usage error.
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launch } from './lib/browser.mjs';
import { ScenarioFailure, check } from './lib/check.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const name = process.argv[2] ?? '';
if (!/^[a-z-]+$/.test(name) || !process.env.CORDON_CONSOLE_E2E) {
  console.error('usage: CORDON_CONSOLE_E2E=settings.json node run.mjs <scenario>');
  process.exit(2);
}
const config = JSON.parse(await readFile(process.env.CORDON_CONSOLE_E2E, 'utf8'));
const scenario = (await import(path.join(here, 'scenarios', `${name}.mjs`))).default;

await rm(path.join(config.screenshots, `failed-${name}.png`), { force: true });
const browser = await launch({ certFile: config.certFile, secrets: Object.values(config.tokens) });
const { page } = browser;
page.setDefaultTimeout(20000);

const t = {
  ...browser,
  config,
  args: config.args ?? {},
  base: config.baseUrl,
  async shot(file) {
    await mkdir(config.screenshots, { recursive: true });
    await page.screenshot({ path: path.join(config.screenshots, `${file}.png`) });
  },
  async signIn(role) {
    const token = config.tokens[role];
    check(token, `no token for ${role}`);
    await page.goto(`${config.baseUrl}/console/`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.who', { hasText: role }).waitFor();
  },
  // Searches for `query`, chooses the person named `name` (one of whose
  // accounts shows `query`) and waits for the side panel on them; returns the panel.
  async openPanel(query, name) {
    await page.getByLabel(/Search people/).fill(query);
    // The list of the previous query may still show for a moment: wait for this one's.
    await page.getByRole('option').filter({ hasText: name }).filter({ hasText: query }).first().click();
    const panel = page.getByRole('dialog');
    await panel.getByRole('heading', { level: 2, name, exact: true }).waitFor();
    return panel;
  },
  // Confirms `action` on the account of `provider` inside `scope` (the panel
  // or the user page) as `login` with a reason; returns once the
  // confirmation closed.
  async act(scope, provider, action, login, where) {
    const verb = action[0].toUpperCase() + action.slice(1).replaceAll('_', ' ');
    await scope.locator(`section.provider-${provider} button[data-action="${action}"]`).click();
    const dialog = page.getByRole('dialog', { name: `${verb} ${login} in ${where}?`, exact: true });
    await dialog.waitFor();
    await dialog.getByLabel(/^Reason/).fill('compromised: console e2e');
    await dialog.getByRole('button', { name: `${verb} ${login}`, exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
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
}
console.log(`${name}: ${failed ? 'failed' : 'passed'} (${browser.urls.length} requests)`);
process.exit(failed ? 1 : 0);
