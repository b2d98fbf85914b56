// The action center on a real action: an AD disable that succeeded on the
// lab (args.actionId, submitted by the harness through the API) is listed,
// filtered, exported, shown with its attempts, and undone with a reason; the
// undo's status goes live to succeeded without a reload.
import { readFile } from 'node:fs/promises';

import { check, equal, eventually } from '../lib/check.mjs';

export default async function actionCenter(t) {
  const { page, args } = t;
  await t.signIn('security_operator');
  await page.getByRole('link', { name: 'Action center', exact: true }).click();
  await page.waitForURL('**/console/actions');
  const row = page.locator(`tr[data-action-id="${args.actionId}"]`);
  await row.waitFor();
  check((await row.locator('.status').innerText()).includes('Succeeded'), 'the AD disable is listed as succeeded');
  check((await row.innerText()).includes(args.account), 'the row names the account');
  await t.shot('action-center');

  // The account opens the side panel on the person; Esc gives the focus back.
  await row.getByRole('button', { name: args.account }).click();
  const panel = page.getByRole('dialog');
  await panel.waitFor();
  await panel.getByRole('alert').or(panel.getByRole('heading', { level: 2 })).first().waitFor();
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
  equal((await t.focused())?.text, args.account, 'Esc gives the focus back to the account');

  // The API's filters, kept in the URL.
  await page.getByLabel('Provider', { exact: true }).selectOption('ad');
  await page.getByLabel('Status', { exact: true }).selectOption('succeeded');
  await page.getByLabel('Account', { exact: true }).fill(args.account);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/provider=ad/);
  check(page.url().includes('status=succeeded') && page.url().includes('target='), `filters in the URL: ${page.url()}`);
  await row.waitFor();
  await page.getByLabel('Status', { exact: true }).selectOption('failed');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByText('No action matches these filters.').waitFor();
  await page.getByRole('button', { name: 'Clear' }).click();
  await row.waitFor();

  // Export: the endpoint with the current filters, as a download.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  equal(download.suggestedFilename(), 'cordon-actions.csv', 'the export file name');
  const csv = await readFile(await download.path(), 'utf8');
  check(csv.startsWith('id,createdAt,updatedAt,status,action,provider,account,'), 'the CSV starts with its header');
  check(csv.includes(`${args.actionId},`), 'the CSV holds the action');

  // Details: attempts with the provider's words, audit, undo.
  await row.getByRole('link').first().click();
  await page.waitForURL(`**/console/actions/${args.actionId}`);
  const attempts = page.locator('table.attempts tbody tr');
  await attempts.first().waitFor();
  check((await attempts.count()) >= 1, 'at least one attempt is shown');
  check((await attempts.first().innerText()).includes('succeeded'), 'the attempt succeeded');
  check((await page.locator('ol.audit li').count()) >= 2, 'the audit trail is shown');
  await t.shot('action-details');

  await page.getByRole('button', { name: 'Undo…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  check((await dialog.innerText()).includes('Cordon will enable'), 'the undo says what it will do');
  const submit = dialog.getByRole('button', { name: new RegExp(`^Enable ${args.account}`) });
  await submit.click();
  await dialog.getByText('Give a reason').waitFor();
  await dialog.getByLabel('Reason').fill('false positive: console e2e');
  await t.shot('undo-confirmation');
  await submit.click();
  await page.waitForURL((url) => /\/console\/actions\/act_/.test(url.pathname) && !url.pathname.endsWith(args.actionId));
  const undoId = page.url().split('/').pop();
  // Live: the page polls while the undo runs and shows it succeeded without a reload.
  await eventually(async () => (await page.locator('.page-head .status').innerText()).includes('Succeeded'), 'the undo shows succeeded', 60000);
  await page.locator('table.attempts tbody tr').first().waitFor();
  check((await page.locator('dl.details').innerText()).includes(args.actionId), 'the undo links the original');
  await t.shot('undo-succeeded');
  console.log(`undo ${undoId}`);
}
