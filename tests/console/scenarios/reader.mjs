// A read-only analyst (security_reader): search, the side panel and the user
// page show every action, each disabled with the reason; Esc closes the
// panel and gives the focus back. A display name made of markup is shown as
// text and runs nothing.
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
  await page.keyboard.type('alice');
  await page.getByRole('option', { name: /Alice Adams/ }).waitFor();
  await page.keyboard.press('Enter');
  const panel = page.getByRole('dialog');
  await panel.getByRole('heading', { name: 'Alice Adams' }).waitFor();
  await expectAllDisabled(panel, 'side panel');
  check((await panel.innerText()).includes('synced from Active Directory'), 'the sync warning is said before any click');
  await t.shot('side-panel-reader');
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
  equal((await t.focused())?.id, 'search', 'Esc gives the focus back to the search');

  const alice = t.people.find((p) => p.displayName === 'Alice Adams');
  await page.goto(`${t.base}/console/identities/${alice.id}`);
  await page.getByRole('heading', { level: 1, name: 'Alice Adams' }).waitFor();
  await expectAllDisabled(page.locator('main'), 'user page');
  await t.shot('user-page-reader');

  // Markup as a display name is text.
  const seed = '<img src=x onerror=alert(1)>';
  await page.getByLabel(/Search people/).fill('xss');
  await page.getByRole('option').first().waitFor();
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').getByRole('heading', { level: 2 }).waitFor();
  equal(await page.getByRole('dialog').getByRole('heading', { level: 2 }).innerText(), seed, 'the name is shown as written');
  equal(await page.locator('img').count(), 0, 'no image element was made from the name');
}
