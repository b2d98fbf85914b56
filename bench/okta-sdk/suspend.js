// Suspends the lab's bulk users with the official Okta Node.js SDK, as a
// user would script it: a pool of CONCURRENCY promises over the list, the
// SDK's own retry on 429 (it waits for X-Rate-Limit-Reset minus Date, plus a
// second) with maxRetries raised so that no suspend is given up.
//
//   ORG_URL=... TOKEN_FILE=... USERS=1000 CONCURRENCY=10 [START_AT_MS=epoch ms] node suspend.js
//
// Prints one JSON line: {"seconds", "suspended", "failed"}. NODE_EXTRA_CA_CERTS
// must name the lab CA.
'use strict';
const fs = require('fs');
const okta = require('@okta/okta-sdk-nodejs');

const orgUrl = process.env.ORG_URL;
const token = fs.readFileSync(process.env.TOKEN_FILE, 'utf8').trim();
const users = parseInt(process.env.USERS || '1000', 10);
const concurrency = parseInt(process.env.CONCURRENCY || '10', 10);
const domain = process.env.DOMAIN || 'corp.example.test';

const client = new okta.Client({
  orgUrl,
  token,
  requestExecutor: new okta.DefaultRequestExecutor({ maxRetries: 1000, requestTimeout: 0 }),
});

async function main() {
  const logins = [];
  for (let i = 1; i <= users; ++i) logins.push(`bulk${String(i).padStart(4, '0')}@${domain}`);
  let next = 0, suspended = 0, failed = 0;
  // The bench says when to start (just after a window opens), once node and the SDK are loaded.
  const startAt = parseInt(process.env.START_AT_MS || '0', 10);
  if (startAt > Date.now()) await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
  const start = process.hrtime.bigint();
  async function worker() {
    while (next < logins.length) {
      const login = logins[next++];
      try {
        await client.userApi.suspendUser({ userId: login });
        ++suspended;
      } catch (e) {
        ++failed;
        if (failed <= 3) console.error(`suspend ${login}: ${e.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ seconds, suspended, failed }));
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
