// Drives Cordon's Graph-compatible API with Microsoft's own Graph JavaScript
// client (@microsoft/microsoft-graph-client, pinned in package-lock.json):
// list with .filter()/.top() and page with its PageIterator over
// @odata.nextLink, get one identityAccounts, invoke an action and find it in
// Cordon's action center, and see Graph errors come back as GraphError with
// Graph's codes. Run by tests/graph_client_test.cpp, which starts the real
// `cordon serve` over a seeded inventory.
//
// Environment (set by the harness):
//   CORDON_URL            https://localhost:PORT
//   CORDON_TOKEN          a security_administrator token
//   CORDON_READER_TOKEN   a security_reader token
//   CORDON_SEED           path of a JSON file describing the seeded identities
//   NODE_EXTRA_CA_CERTS   the server's certificate: the only extra trust
//
// Prints one "ok - ..." line per check and exits 0, or prints "not ok - ..."
// with the reason and exits 1.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { Client, GraphError, PageIterator, ResponseType } from "@microsoft/microsoft-graph-client";

const url = new URL(process.env.CORDON_URL);
const token = process.env.CORDON_TOKEN;
const readerToken = process.env.CORDON_READER_TOKEN;
const seed = JSON.parse(readFileSync(process.env.CORDON_SEED, "utf8"));
const kAccounts = "/security/identities/identityAccounts";
const kGuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// A Graph client for Cordon: Graph clients build each URL as baseUrl +
// version + path, and attach the token only to Microsoft's hosts or the
// customHosts listed (a hostname, without the port).
function graphClient(bearer, version, customHosts = new Set([url.hostname])) {
  return Client.init({
    authProvider: (done) => done(null, bearer),
    baseUrl: url.origin,
    defaultVersion: version,
    customHosts,
  });
}

let failed = false;
async function check(name, body) {
  try {
    await body();
    console.log(`ok - ${name}`);
  } catch (error) {
    failed = true;
    console.log(`not ok - ${name}`);
    console.log(`  ${String(error && error.stack ? error.stack : error).split("\n").join("\n  ")}`);
  }
}

async function expectGraphError(promise, status, code) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GraphError, `a GraphError, not ${error && error.constructor && error.constructor.name}`);
    assert.equal(error.statusCode, status);
    assert.equal(error.code, code);
    assert.match(error.requestId, kGuid);
    assert.equal(typeof error.message, "string");
    assert.ok(error.message.length > 0);
    return error;
  }
  assert.fail(`expected a ${status} ${code}`);
}

const v1 = graphClient(token, "v1.0");
const beta = graphClient(token, "beta");
const reader = graphClient(readerToken, "v1.0");
const byName = (a, b) => a.displayName.toLowerCase().localeCompare(b.displayName.toLowerCase()) || a.id.localeCompare(b.id);

await check("the server's CA is trusted through NODE_EXTRA_CA_CERTS alone", async () => {
  // Node's own fetch, which the Graph client calls, verifies the server.
  const response = await fetch(new URL("/healthz", url));
  assert.equal(response.status, 200);
});

await check("list with .filter() and .top(), then every page with PageIterator over @odata.nextLink", async () => {
  const first = await v1
    .api(kAccounts)
    .filter(`startswith(displayName,'${seed.prefix}')`)
    .top(5)
    .get();
  assert.equal(first["@odata.context"], `${url.origin}/v1.0/$metadata#security/identities/identityAccounts`);
  assert.equal(first.value.length, 5);
  assert.ok(first["@odata.nextLink"].startsWith(`${url.origin}/v1.0/security/identities/identityAccounts?`));
  assert.match(first["@odata.nextLink"], /[?&]\$skiptoken=/);

  const seen = [];
  const pages = new PageIterator(v1, first, (item) => {
    seen.push(item);
    return true;
  });
  await pages.iterate();
  assert.equal(seen.length, seed.prefixed.length);
  assert.deepEqual(
    seen.map((i) => i.id),
    [...seed.prefixed].sort(byName).map((i) => i.id),
  );
  for (const item of seen) assert.ok(item.displayName.startsWith(seed.prefix));
  assert.ok(pages.isComplete());
});

await check("filter by displayName eq with a quote escaped as OData writes it, and by domain", async () => {
  const quoted = seed.quoted;
  const escaped = quoted.displayName.replaceAll("'", "''");
  const byDisplayName = await v1.api(kAccounts).filter(`displayName eq '${escaped}'`).get();
  assert.deepEqual(
    byDisplayName.value.map((i) => i.id),
    [quoted.id],
  );
  assert.equal(byDisplayName["@odata.nextLink"], undefined);
  const byDomain = await v1.api(kAccounts).filter(`domain eq '${quoted.domain}'`).get();
  assert.deepEqual(
    byDomain.value.map((i) => i.id),
    [quoted.id],
  );
});

await check("get one identityAccounts: Graph's properties and each account's actions", async () => {
  const quoted = seed.quoted;
  const got = await v1.api(`${kAccounts}/${quoted.id}`).get();
  assert.equal(got["@odata.context"], `${url.origin}/v1.0/$metadata#security/identities/identityAccounts/$entity`);
  assert.equal(got.id, quoted.id);
  assert.equal(got.displayName, quoted.displayName);
  assert.equal(got.domain, quoted.domain);
  assert.equal(got.isEnabled, true);
  assert.equal(got.onPremisesSecurityIdentifier, quoted.onPremisesSecurityIdentifier);
  assert.equal(got.cloudSecurityIdentifier, quoted.cloudSecurityIdentifier);
  assert.deepEqual(got.accounts, quoted.accounts);

  const selected = await v1.api(`${kAccounts}/${quoted.id}`).select(["displayName", "accounts"]).get();
  assert.deepEqual(Object.keys(selected).sort(), ["@odata.context", "accounts", "displayName"]);
});

await check("the beta version serves the same, by defaultVersion and by .version()", async () => {
  const quoted = seed.quoted;
  const got = await beta.api(`${kAccounts}/${quoted.id}`).get();
  assert.equal(got["@odata.context"], `${url.origin}/beta/$metadata#security/identities/identityAccounts/$entity`);
  assert.equal(got.displayName, quoted.displayName);
  const listed = await v1.api(kAccounts).version("beta").filter(`domain eq '${quoted.domain}'`).get();
  assert.equal(listed["@odata.context"], `${url.origin}/beta/$metadata#security/identities/identityAccounts`);
  assert.equal(listed.value.length, 1);
});

await check("invokeAction answers the invokeActionResult, and the action center has the action", async () => {
  const target = seed.invoke;
  const body = { accountId: target.accountId, action: target.action, identityProvider: target.identityProvider };
  const result = await v1.api(`${kAccounts}/${target.identityId}/invokeAction`).post(body);
  assert.equal(result.value.accountId, target.accountId);
  assert.equal(result.value.action, target.action);
  assert.equal(result.value.identityProvider, target.identityProvider);
  assert.match(result.value.correlationId, /^act_[0-9a-z]{26}$/);

  // The action center finds it by its correlationId (Cordon's own API, same token).
  const response = await fetch(new URL(`/api/v1/actions/${result.value.correlationId}`, url), {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200);
  const action = await response.json();
  assert.equal(action.id, result.value.correlationId);
  assert.equal(action.action, target.cordonAction);
  assert.equal(action.provider, target.cordonProvider);
  assert.equal(action.account, target.accountId);
  assert.equal(action.requestedBy, seed.tokenName);
  assert.match(action.reason, /Graph-compatible API/);
});

await check("invokeAction by the qualified name Graph's generated SDKs use", async () => {
  const target = seed.invoke;
  const result = await beta
    .api(`${kAccounts}/${target.identityId}/microsoft.graph.security.invokeAction`)
    .post({ accountId: target.accountId, action: "enable", identityProvider: target.identityProvider });
  assert.equal(result.action, "enable");
  assert.match(result.correlationId, /^act_[0-9a-z]{26}$/);
});

await check("client-request-id: the client's own comes back, with a request-id", async () => {
  const mine = "5a9c3e4b-1d2f-4a6b-8c7d-9e0f1a2b3c4d";
  const raw = await v1.api(kAccounts).header("client-request-id", mine).top(1).responseType(ResponseType.RAW).get();
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get("client-request-id"), mine);
  assert.match(raw.headers.get("request-id"), kGuid);
  assert.match(raw.headers.get("x-request-id"), /^urn:cordon:request:[0-9a-f]{24}$/);
});

await check("Graph errors come back as GraphError with Graph's codes", async () => {
  const target = seed.invoke;
  const body = { accountId: target.accountId, action: target.action, identityProvider: target.identityProvider };
  await expectGraphError(
    reader.api(`${kAccounts}/${target.identityId}/invokeAction`).post(body),
    403,
    "Authorization_RequestDenied",
  );
  await expectGraphError(v1.api(kAccounts).filter("mail eq 'x'").get(), 400, "BadRequest");
  await expectGraphError(v1.api(kAccounts).top(1000).get(), 400, "BadRequest");
  await expectGraphError(v1.api(`${kAccounts}/00000000-0000-4000-8000-000000000000`).get(), 404, "NotFound");
  await expectGraphError(
    v1.api(`${kAccounts}/${target.identityId}/invokeAction`).post({ ...body, action: "forcePasswordReset", identityProvider: "okta" }),
    400,
    "BadRequest",
  );
  await expectGraphError(graphClient("cdn_not-a-token", "v1.0").api(kAccounts).get(), 401, "InvalidAuthenticationToken");
});

await check("without customHosts the client keeps the token to itself", async () => {
  const error = await expectGraphError(
    graphClient(token, "v1.0", new Set(["graph.example.invalid"])).api(kAccounts).get(),
    401,
    "InvalidAuthenticationToken",
  );
  assert.match(error.message, /Access token is empty/);
});

process.exit(failed ? 1 : 0);
