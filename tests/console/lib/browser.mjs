// Debian's chromium driven by playwright-core: a fresh profile, the server's
// certificate trusted by pinning its public key (no blanket ignoring of
// certificate errors), and a watch on everything that must never happen —
// a token in a URL, a Content-Security-Policy violation, a script error, an
// alert (markup run from data).
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

// base64(sha256(SubjectPublicKeyInfo)), as --ignore-certificate-errors-spki-list takes it.
export async function spkiPin(certFile) {
  const cert = new X509Certificate(await readFile(certFile));
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

export async function launch({ certFile, secrets, viewport = { width: 1280, height: 800 } }) {
  const profile = await mkdtemp(path.join(tmpdir(), 'cordon-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    acceptDownloads: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${await spkiPin(certFile)}`,
    ],
  });
  const problems = [];
  const urls = [];
  const watch = (page) => {
    page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
    page.on('console', (message) => {
      const text = message.text();
      if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    });
    page.on('dialog', async (dialog) => {
      problems.push(`a ${dialog.type()} dialog opened: ${dialog.message()}`);
      await dialog.dismiss();
    });
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  context.on('request', (request) => urls.push(request.url()));
  const page = context.pages()[0] ?? (await context.newPage());

  return {
    context,
    page,
    urls,
    // What went wrong that no scenario step would notice by itself.
    problems() {
      const found = [...problems];
      for (const url of urls)
        for (const secret of secrets)
          if (url.includes(secret) || url.includes(encodeURIComponent(secret))) found.push(`a token in a URL: ${url.slice(0, 60)}…`);
      return found;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
