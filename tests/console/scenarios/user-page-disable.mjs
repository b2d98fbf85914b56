// An analyst finds a person (args.query, args.name), opens the user page from
// the side panel (the page's heading takes the focus, the search list stays
// closed) and disables their AD account (args.account) there: the action
// appears among the person's recent actions and goes live to succeeded, and
// the account card shows it disabled once Cordon refreshed it.
// Prints "action <id>" for the harness, which checks the directory.
import { check, equal, eventually } from '../lib/check.mjs';

export default async function userPageDisable(t) {
  const { page, args } = t;
  await t.signIn('security_operator');
  const panel = await t.openPanel(args.query, args.name);
  await panel.getByRole('link', { name: 'Open the user page' }).click();
  await page.waitForURL('**/console/identities/*');
  await page.getByRole('heading', { level: 1, name: args.name, exact: true }).waitFor();
  // The new page has the focus, and the search's list does not cover it.
  await eventually(async () => (await t.focused())?.tag === 'h1', 'the user page takes the focus');
  equal(await page.locator('#search-results').count(), 0, 'the search list is closed');
  const main = page.locator('main');
  const state = main.locator('section.provider-ad .state');
  check((await state.innerText()).startsWith('enabled'), 'the AD account is enabled before');

  await t.act(main, 'ad', 'disable', args.account, 'Active Directory');
  const row = main.locator('tr[data-action-id]').first();
  await row.waitFor();
  await eventually(async () => (await row.locator('.status').innerText()).includes('Succeeded'), 'the disable shows succeeded on the user page', 60000);
  await eventually(async () => (await state.innerText()).startsWith('disabled'), 'the AD account shows disabled');
  await row.scrollIntoViewIfNeeded();
  await t.shot('user-page-ad-disabled');
  console.log(`action ${await row.getAttribute('data-action-id')}`);
}
