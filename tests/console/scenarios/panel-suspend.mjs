// An analyst (args.role) finds a person (args.query, args.name) and suspends
// their account at args.provider (args.account, in args.where) from the side
// panel: the action goes live to succeeded in the panel and the account card
// shows args.state once Cordon refreshed it. Prints "action <id>" for the
// harness, which checks the provider itself.
import { check, eventually } from '../lib/check.mjs';

export default async function panelSuspend(t) {
  const { page, args } = t;
  await t.signIn(args.role);
  const panel = await t.openPanel(args.query, args.name);
  const state = panel.locator(`section.provider-${args.provider} .state`);
  check((await state.innerText()).startsWith('enabled'), `the ${args.where} account is enabled before`);

  await t.act(panel, args.provider, 'suspend', args.account, args.where);
  check(await panel.isVisible(), 'the panel stays open after the confirmation');
  const row = panel.locator('tr[data-action-id]').first();
  await row.waitFor();
  await eventually(async () => (await row.locator('.status').innerText()).includes('Succeeded'), 'the suspend shows succeeded in the panel', 60000);
  await eventually(async () => (await state.innerText()).startsWith(args.state), `the account shows ${args.state}`);
  await row.scrollIntoViewIfNeeded();
  await t.shot(`side-panel-${args.provider}-suspended`);
  console.log(`action ${await row.getAttribute('data-action-id')}`);
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
}
