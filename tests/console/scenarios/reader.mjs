// A read-only analyst (security_reader) on a person of the lab with accounts
// in AD, Entra ID and Okta (args.person: {id, displayName}): search, the side
// panel and the user page show every action, each disabled with the reason;
// Esc closes the panel and gives the focus back.
import { check, equal } from '../lib/check.mjs';

async function expectAllDisabled(scope, where) {
  const buttons = scope.locator('button[data-action]');
  const n = await buttons.count();
  check(n >= 10, `${where}: every action of every account is shown (${n})`);
  for (let i = 0; i < n; ++i) {
    const button = buttons.nth(i);
    check(await button.isDisabled(), `${where}: ${await button.innerText()} is disabled`);
    const why = await button.locator('xpath=following-sibling::span[contains(@class, "why")]').innerText();
    check(why.includes('security_reader'), `${where}: the reason names the role: ${why}`);
  }
}

export default async function reader(t) {
  const { page } = t;
  await t.signIn('security_reader');
  await page.keyboard.press('/');
  equal((await t.focused())?.id, 'search', '/ focuses the search');
  const { person } = t.args;
  await page.keyboard.type(person.query);
  await page.getByRole('option').filter({ hasText: person.displayName }).waitFor();
  await page.keyboard.press('Enter');
  const panel = page.getByRole('dialog');
  await panel.getByRole('heading', { name: person.displayName }).waitFor();
  await expectAllDisabled(panel, 'side panel');
  check((await panel.innerText()).includes('synced from Active Directory'), 'the sync warning is said before any click');
  await t.shot('side-panel-reader');
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
  equal((await t.focused())?.id, 'search', 'Esc gives the focus back to the search');

  await page.goto(`${t.base}/console/identities/${person.id}`);
  await page.getByRole('heading', { level: 1, name: person.displayName }).waitFor();
  const main = page.locator('main');
  await expectAllDisabled(main, 'user page');
  for (const provider of ['ad', 'entra', 'okta'])
    check(await main.locator(`section.provider-${provider}`).isVisible(), `the user page shows the ${provider} account`);
  await t.shot('user-page-reader');
}
