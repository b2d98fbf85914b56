// A small stand-in for the identity routes of the REST contract
// (GET /api/v1/me, /api/v1/identities, /api/v1/identities/{id},
// /api/v1/inventory), in front of the real `cordon serve`: it answers those
// itself from a few made-up people and forwards every other request — the
// console's files, sign-in, the action center — to the server unchanged
// (same Host header, cookies and body), over HTTPS with the server's own
// certificate, so the browser sees one origin. The role of the signed-in
// analyst comes from the session cookie, matched against the tokens the
// harness issued; recent actions are the real server's.
import https from 'node:https';
import { readFile } from 'node:fs/promises';

const CATALOGUE = {
  ad: [
    ['disable', 'enable', null, 'response'],
    ['enable', 'disable', null, 'response'],
    ['force_password_reset', 'clear_password_reset', null, 'response'],
    ['clear_password_reset', 'force_password_reset', null, 'response'],
    ['mark_compromised', 'dismiss_risk', null, 'admin'],
    ['dismiss_risk', 'mark_compromised', null, 'admin'],
  ],
  entra: [
    ['suspend', 'unsuspend', null, 'global'],
    ['unsuspend', 'suspend', null, 'global'],
    ['revoke_sessions', null, null, 'global'],
    ['mark_compromised', 'dismiss_risk', null, 'admin'],
    ['dismiss_risk', 'mark_compromised', null, 'admin'],
  ],
  okta: [
    ['suspend', 'unsuspend', null, 'response'],
    ['unsuspend', 'suspend', null, 'response'],
    ['deactivate', 'activate', 'activation is a new one: the user must set up their factors again', 'response'],
    ['activate', 'deactivate', null, 'response'],
    ['revoke_sessions', null, null, 'response'],
    ['mark_compromised', 'dismiss_risk', null, 'admin'],
    ['dismiss_risk', 'mark_compromised', null, 'admin'],
  ],
};
const TIERS = {
  security_reader: [],
  response_manager: ['response'],
  security_operator: ['response'],
  security_administrator: ['response', 'admin'],
  global_administrator: ['response', 'admin', 'global'],
};
const WHERE = { ad: 'Active Directory', entra: 'Entra ID', okta: 'Okta' };
const TARGET_STATE = { disable: 'disabled', enable: 'enabled', suspend: 'suspended', unsuspend: 'enabled', deactivate: 'deactivated', activate: 'enabled' };

function account(provider, fields) {
  return {
    provider,
    upn: '',
    sid: '',
    mail: '',
    displayName: '',
    status: 'enabled',
    providerStatus: null,
    mustChangePassword: false,
    providerRisk: null,
    riskLevel: null,
    adminProtected: false,
    syncedFromAd: false,
    guest: false,
    identifiers: {},
    seenAt: '2026-12-06T09:00:00Z',
    ...fields,
  };
}

const PEOPLE = [
  {
    id: '6f1c2a4e-8b0d-5e3f-9a71-0c2d4e6f8a10',
    displayName: 'Alice Adams',
    domain: 'corp.example.test',
    riskLevel: null,
    accounts: [
      account('ad', { id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', login: 'alice.adams', displayName: 'Alice Adams', upn: 'alice.adams@corp.example.test', sid: 'S-1-5-21-1004336348-1177238915-682003330-1105', mail: 'alice.adams@corp.example.test' }),
      account('entra', { id: '3d9e5b7a-1c2f-4e8d-b6a0-9f7e5d3c1b2a', login: 'alice.adams@corp.example.test', displayName: 'Alice Adams', upn: 'alice.adams@corp.example.test', sid: 'S-1-5-21-1004336348-1177238915-682003330-1105', syncedFromAd: true, providerRisk: 'medium' }),
      account('okta', { id: '00u1a2b3c4d5e6f7g8h9', login: 'alice.adams@corp.example.test', displayName: 'Alice Adams', providerStatus: 'ACTIVE', mail: 'alice.adams@corp.example.test' }),
    ],
  },
  {
    id: '0a7b9c1d-2e3f-5a4b-8c6d-7e8f9a0b1c2d',
    displayName: 'Adam Admin',
    domain: 'corp.example.test',
    riskLevel: 'high',
    accounts: [
      account('ad', { id: '5c0e8f7a-3b2d-4c1e-9f8a-7b6c5d4e3f2a', login: 'adam.admin', displayName: 'Adam Admin', upn: 'adam.admin@corp.example.test', adminProtected: true, riskLevel: 'high', status: 'disabled' }),
    ],
  },
  {
    id: '9e8d7c6b-5a4f-5e3d-8c2b-1a0f9e8d7c6b',
    displayName: 'Gina Guest',
    domain: 'partner.example',
    riskLevel: null,
    accounts: [
      account('entra', { id: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d', login: 'gina_partner.example#EXT#@corp.example.test', displayName: 'Gina Guest', guest: true, providerRisk: 'hidden' }),
    ],
  },
  {
    id: '1f2e3d4c-5b6a-5978-8a9b-0c1d2e3f4a5b',
    displayName: '<img src=x onerror=alert(1)>',
    domain: 'corp.example.test',
    riskLevel: null,
    accounts: [
      account('okta', { id: '00uxss0000000000000', login: 'xss.seed@corp.example.test', displayName: '<img src=x onerror=alert(1)>', providerStatus: 'ACTIVE' }),
    ],
  },
];

function actionsOf(person, acct, role) {
  const tiers = TIERS[role] ?? [];
  const hasAd = person.accounts.some((a) => a.provider === 'ad');
  return CATALOGUE[acct.provider].map(([action, undo, limits, tier]) => {
    const allowed = tiers.includes(tier);
    const warnings = [];
    if (acct.provider === 'entra' && action === 'suspend' && acct.syncedFromAd)
      warnings.push('This user is synced from Active Directory: the next directory sync turns the suspend back on. Disable the AD account too.');
    if (acct.provider === 'ad' && acct.adminProtected && ['disable', 'enable', 'force_password_reset', 'clear_password_reset'].includes(action))
      warnings.push('adminCount=1: this account is protected by AdminSDHolder; the delegated action account cannot change it.');
    if (action === 'revoke_sessions' && acct.guest)
      warnings.push("A guest's session revocation has no effect: the guest signs in at their home tenant.");
    const state = TARGET_STATE[action];
    return {
      action,
      allowed,
      why: allowed ? null : `your role (${role}) may not ${action} at ${acct.provider}`,
      applicable: !(state && acct.status === state) && !(action === 'dismiss_risk' && acct.riskLevel !== 'high'),
      warnings,
      alsoOnPrem: acct.provider === 'entra' && action === 'suspend' && acct.syncedFromAd && hasAd,
      undo: undo ? { action: undo, limits } : null,
      summary: `${action.replaceAll('_', ' ')} ${acct.login} in ${WHERE[acct.provider]} (${acct.id}).`,
    };
  });
}

function summary(person) {
  return {
    id: person.id,
    displayName: person.displayName,
    domain: person.domain,
    riskLevel: person.riskLevel,
    accounts: person.accounts.map((a) => ({ provider: a.provider, id: a.id, login: a.login, displayName: a.displayName, status: a.status, providerStatus: a.providerStatus })),
  };
}

function matches(person, q) {
  const needle = q.toLowerCase();
  const words = person.displayName.toLowerCase().split(/\s+/);
  if (words.some((w) => w.startsWith(needle)) || person.displayName.toLowerCase() === needle) return true;
  return person.accounts.some((a) => [a.login, a.upn, a.sid, a.mail, a.id].some((v) => v && v.toLowerCase().startsWith(needle)));
}

function cookieOf(req, name) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return '';
}

export async function startFakeIdentities({ upstream, certFile, keyFile, tokens }) {
  const cert = await readFile(certFile);
  const key = await readFile(keyFile);
  const target = new URL(upstream);
  const roleOf = (req) => Object.entries(tokens).find(([, token]) => token === cookieOf(req, 'cordon_session'))?.[0];

  const forward = (req, res, body) =>
    new Promise((resolve) => {
      const out = https.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, ca: cert, servername: 'localhost' },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res).on('finish', resolve);
        },
      );
      out.on('error', (e) => {
        res.writeHead(502).end(String(e));
        resolve();
      });
      out.end(body);
    });

  // The real server's actions on this person's accounts, newest first.
  const recentActions = async (req, person) => {
    const lists = await Promise.all(
      person.accounts.map(
        (a) =>
          new Promise((resolve) => {
            const path = `/api/v1/actions?provider=${a.provider}&target=${encodeURIComponent(a.login)}&limit=20`;
            https
              .get({ host: target.hostname, port: target.port, path, headers: { cookie: req.headers.cookie ?? '', host: req.headers.host }, ca: cert, servername: 'localhost' }, (answer) => {
                let text = '';
                answer.on('data', (c) => (text += c));
                answer.on('end', () => resolve(answer.statusCode === 200 ? JSON.parse(text).value : []));
              })
              .on('error', () => resolve([]));
          }),
      ),
    );
    return lists.flat().sort((x, y) => (x.createdAt < y.createdAt ? 1 : -1)).slice(0, 20);
  };

  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': status < 400 ? 'application/json' : 'application/problem+json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const problem = (res, status, detail) => json(res, status, { type: 'urn:cordon:problem:fake', title: 'fake', status, detail, instance: 'urn:cordon:request:fake' });

  const server = https.createServer({ cert, key }, async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'https://fake');
    const fake = url.pathname === '/api/v1/me' || url.pathname.startsWith('/api/v1/identities') || url.pathname.startsWith('/api/v1/inventory');
    if (!fake) return forward(req, res, body);
    const role = roleOf(req);
    if (!role) return problem(res, 401, 'a bearer token is required');
    if (url.pathname === '/api/v1/me') {
      const may = [];
      for (const [provider, rows] of Object.entries(CATALOGUE))
        for (const [action, , , tier] of rows) if (TIERS[role].includes(tier)) may.push({ provider, action });
      return json(res, 200, { name: `e2e-${role}`, tokenId: `tok_${role}`, role, may, providers: ['ad', 'entra', 'okta'] });
    }
    if (url.pathname === '/api/v1/identities') {
      const q = url.searchParams.get('q') ?? '';
      const found = PEOPLE.filter((p) => !q || matches(p, q)).map(summary);
      return json(res, 200, { value: found.slice(0, Number(url.searchParams.get('limit') ?? 20)), nextCursor: null });
    }
    const id = decodeURIComponent(url.pathname.slice('/api/v1/identities/'.length));
    const person = PEOPLE.find((p) => p.id === id);
    if (!person) return problem(res, 404, 'no identity has this id');
    return json(res, 200, {
      id: person.id,
      displayName: person.displayName,
      domain: person.domain,
      riskLevel: person.riskLevel,
      accounts: person.accounts.map((a) => ({ ...a, actions: actionsOf(person, a, role) })),
      recentActions: await recentActions(req, person),
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${server.address().port}`,
    people: PEOPLE,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
