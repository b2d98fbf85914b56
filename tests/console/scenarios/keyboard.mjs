// The keyboard path: / focuses the search, arrows and Enter open the side
// panel, Tab stays inside it, an action opens its confirmation (what happens
// where, the warnings, alsoOnPrem, the undo) with the focus on the reason,
// Esc closes the confirmation then the panel, and the focus comes back each
// time to where it was.
import { check, equal } from '../lib/check.mjs';

export default async function keyboard(t) {
  const { page } = t;
  await t.signIn('global_administrator');
  await page.locator('main h1').waitFor();
  await page.keyboard.press('/');
  equal((await t.focused())?.id, 'search', '/ focuses the search');
  await page.keyboard.type('adm');
  await page.getByRole('option', { name: /Dana Admin/ }).waitFor();
  // "Administrator" and "Dana Admin" match; arrows move between them.
  const options = page.getByRole('option');
  check((await options.count()) >= 2, 'two people match "adm"');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  const chosen = await page.locator('[role=option][aria-selected=true] .result-name').innerText();
  await page.keyboard.press('Enter');
  const panel = page.getByRole('dialog');
  await panel.getByRole('heading', { level: 2, name: chosen.replace('High risk', '').trim() }).waitFor();
  check((await t.focused())?.inDialog, 'the focus moved into the panel');
  for (let i = 0; i < 40; ++i) {
    await page.keyboard.press('Tab');
    check((await t.focused())?.inDialog, `Tab ${i + 1} keeps the focus inside the panel`);
  }
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
  equal((await t.focused())?.id, 'search', 'Esc gives the focus back');

  // Alice's Entra suspend: warned before the click, confirmed with alsoOnPrem.
  await page.keyboard.press('Control+a');
  await page.keyboard.type('alice');
  await page.getByRole('option', { name: /Alice Adams/ }).waitFor();
  await page.keyboard.press('Enter');
  await panel.getByRole('heading', { level: 2, name: 'Alice Adams' }).waitFor();
  const card = panel.locator('section.provider-entra');
  check((await card.innerText()).includes('next directory sync'), 'the sync warning is on the card before the click');
  const suspend = card.locator('button[data-action="suspend"]');
  await suspend.focus();
  await page.keyboard.press('Enter');
  const confirm = page.getByRole('dialog', { name: /Suspend alice\.adams@corp\.example\.test in Entra ID\?/ });
  await confirm.waitFor();
  equal((await t.focused())?.id, 'reason', 'the confirmation starts at the reason');
  const text = await confirm.innerText();
  check(text.includes('Blocks sign-in of the Entra ID user Alice Adams (alice.adams@corp.example.test)'), 'the confirmation says what happens where');
  check(text.includes('it also disables the Active Directory account Alice Adams (alice.adams)'), 'and what alsoOnPrem adds');
  check(text.includes('next directory sync'), 'the confirmation repeats the warning');
  check(text.includes('Can be undone later (Unsuspend)'), 'the confirmation names the undo');
  check(await confirm.getByLabel(/Also disable/).isChecked(), 'also disabling in AD is offered, on');
  await t.shot('confirmation');
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  check(await panel.isVisible(), 'Esc closed the confirmation only');
  equal((await t.focused())?.text, 'Suspend', 'the focus is back on the action');
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
  equal((await t.focused())?.id, 'search', 'and back on the search after the panel');

  // A new page puts the focus on its heading; Tab goes on from there.
  await page.getByRole('link', { name: 'Action center', exact: true }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Action center' }).waitFor();
  equal((await t.focused())?.tag, 'h1', 'the new page\'s heading has the focus');
  await page.keyboard.press('Tab');
  equal((await t.focused())?.text, 'Export CSV', 'Tab goes on from the heading');
}
