// The pages as an analyst sees them, at 1280×800 and in a 400 px window:
// screenshots for people to look at, and no page wider than its window.
import { check } from '../lib/check.mjs';

async function noSidewaysScroll(t, where) {
  const { scroll, width } = await t.page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  check(scroll <= width + 1, `${where}: the page is ${scroll} px wide in a ${width} px window`);
}

export default async function screens(t) {
  const { page } = t;
  await page.goto(`${t.base}/console/`);
  await page.getByLabel('API token').waitFor();
  await t.shot('sign-in');
  await page.getByLabel('API token').fill('cdn_not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'the token is unknown, revoked or expired' }).waitFor();
  await t.signIn('security_operator');
  await page.locator('main h1').waitFor();
  await t.shot('home');
  const { person, admin, guest } = t.args;
  await page.goto(`${t.base}/console/identities/${person.id}`);
  await page.getByRole('heading', { level: 1, name: person.displayName }).waitFor();
  await t.shot('user-page');
  await page.getByLabel(/Search people/).fill(person.query);
  await page.getByRole('option').filter({ hasText: person.displayName }).first().click();
  await page.getByRole('dialog').getByRole('heading', { level: 2, name: person.displayName }).waitFor();
  await t.shot('side-panel');
  await page.keyboard.press('Escape');
  await page.goto(`${t.base}/console/identities/${admin.id}`);
  await page.getByRole('heading', { level: 1, name: admin.displayName }).waitFor();
  check((await page.locator('main').innerText()).includes('AdminSDHolder'), 'the AdminSDHolder warning is on the page');
  await t.shot('user-page-admin');
  await page.goto(`${t.base}/console/identities/no-such-id`);
  await page.getByRole('alert').filter({ hasText: 'no identity has this id' }).waitFor();

  await page.goto(`${t.base}/console/actions`);
  await page.locator('tr[data-action-id]').nth(1).waitFor();
  const failed = page.locator('tr[data-action-id]', { hasText: 'no.such.user' });
  check((await failed.innerText()).includes('Failed'), 'the action on an unknown account failed');
  await failed.getByRole('link').click();
  await page.locator('table.attempts tbody tr').first().waitFor();
  await t.shot('action-details-failed');

  await page.setViewportSize({ width: 400, height: 800 });
  await page.goto(`${t.base}/console/actions`);
  await page.locator('tr[data-action-id]').nth(1).waitFor();
  await noSidewaysScroll(t, 'action center');
  await t.shot('narrow-action-center');
  await page.goto(`${t.base}/console/identities/${person.id}`);
  await page.getByRole('heading', { level: 1, name: person.displayName }).waitFor();
  await noSidewaysScroll(t, 'user page');
  await t.shot('narrow-user-page');
  await page.getByLabel(/Search people/).fill(guest.query);
  await page.getByRole('option').filter({ hasText: guest.displayName }).first().click();
  const panel = page.getByRole('dialog');
  await panel.getByRole('heading', { level: 2, name: guest.displayName }).waitFor();
  check((await panel.innerText()).includes('revoking them here has no effect'), 'the guest warning is said');
  await noSidewaysScroll(t, 'side panel');
  await t.shot('narrow-side-panel');
  await page.keyboard.press('Escape');

  // Sign-out clears the session: a reload asks for a token again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You signed out.').waitFor();
  await page.reload();
  await page.getByLabel('API token').waitFor();
  const cookies = await t.context.cookies();
  check(!cookies.some((c) => c.name === 'cordon_session'), 'no session cookie is left');
}
