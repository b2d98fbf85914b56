// A display name made of markup (args.name), seeded by the harness in each
// provider (args.seeds: [{query, provider}]): found by the search, shown in
// the list, the side panel and on the user page as the text it is. Nothing
// runs: lib/browser.mjs fails the run on an alert, a script error or a CSP
// violation, and no image element is made from it.
import { equal } from '../lib/check.mjs';

export default async function xss(t) {
  const { page, args } = t;
  await t.signIn('security_reader');
  for (const seed of args.seeds) {
    await page.getByLabel(/Search people/).fill(seed.query);
    const option = page.getByRole('option').filter({ hasText: args.name }).filter({ hasText: seed.query });
    await option.first().waitFor();
    equal(await page.getByRole('option').count(), 1, `${seed.provider}: one person matches ${seed.query}`);
    const panel = await t.openPanel(seed.query, args.name);
    equal(await panel.getByRole('heading', { level: 2 }).innerText(), args.name, `${seed.provider}: the panel shows the name as written`);
    const card = panel.locator(`section.provider-${seed.provider}`);
    equal(await card.locator('dl.facts dd').first().innerText(), args.name, `${seed.provider}: the account's name is text`);
    equal(await page.locator('img').count(), 0, `${seed.provider}: no image element in the panel`);
    await t.shot(`xss-side-panel-${seed.provider}`);

    await panel.getByRole('link', { name: 'Open the user page' }).click();
    await page.waitForURL('**/console/identities/*');
    const heading = page.getByRole('heading', { level: 1 });
    await heading.waitFor();
    equal(await heading.innerText(), args.name, `${seed.provider}: the user page shows the name as written`);
    equal(await page.locator('img').count(), 0, `${seed.provider}: no image element on the user page`);
    await t.shot(`xss-user-page-${seed.provider}`);
  }
}
