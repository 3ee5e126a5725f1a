// Authorization code + PKCE with openid-client; Chromium (playwright-core) signs in and approves
// consent. Then refresh with rotation (reuse revokes the family) and revocation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, configFor, verifyWithJose, client } from './common.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
after(async () => { await browser?.close(); await server?.stop(); });

// Loopback redirect with a port of the client's choosing (RFC 8252 §7.3); nothing listens there:
// the browser's request is intercepted and answered by the test.
const redirectUri = 'http://127.0.0.1:53682/cb';

async function loginAndConsent(config, scope) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const page = await browser.newPage();
  let callback;
  await page.route('http://127.0.0.1:53682/**', (route) => {
    callback = route.request().url();
    return route.fulfill({ status: 200, contentType: 'text/plain', body: 'done' });
  });
  const response = await page.goto(url.href);
  const headers = response.headers();
  assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
  assert.equal(headers['cache-control'], 'no-store');
  await page.fill('#username', server.user);
  await page.fill('#password', server.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Allow access?');
  assert.ok((await page.content()).includes('Receive messages from topics matching sensors/#'), 'scope in words');
  await page.click('button[value=approve]');
  await page.waitForURL(/127\.0\.0\.1:53682\/cb/);
  await page.close();
  return { callback: new URL(callback), verifier, state };
}

test('authorization code + PKCE, refresh rotation, reuse revokes the family, revocation', async () => {
  const config = await configFor(server, 'web', 'basic');
  const { callback, verifier, state } = await loginAndConsent(config, 'mqtt:sub:sensors/# offline_access');
  assert.equal(callback.searchParams.get('iss'), server.issuer, 'RFC 9207 iss');
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  assert.ok(tokens.refresh_token);
  const { payload } = await verifyWithJose(server, tokens.access_token);
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.client_id, 'web');
  assert.equal(payload.scope, 'mqtt:sub:sensors/# offline_access');

  // The same code again: invalid_grant.
  await assert.rejects(
    client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }),
    (err) => err.error === 'invalid_grant');

  // Code reuse revoked what the code issued, so start a fresh grant for the refresh checks.
  const second = await loginAndConsent(config, 'mqtt:sub:sensors/# offline_access');
  const t1 = await client.authorizationCodeGrant(config, second.callback, {
    pkceCodeVerifier: second.verifier,
    expectedState: second.state,
  });
  const t2 = await client.refreshTokenGrant(config, t1.refresh_token);
  assert.notEqual(t2.refresh_token, t1.refresh_token, 'rotation');
  await verifyWithJose(server, t2.access_token);
  // Reusing the rotated token (grace is 0 on the test server) revokes the whole family.
  await assert.rejects(client.refreshTokenGrant(config, t1.refresh_token), (err) => err.error === 'invalid_grant');
  await assert.rejects(client.refreshTokenGrant(config, t2.refresh_token), (err) => err.error === 'invalid_grant');

  // A fresh grant, then explicit revocation of its refresh token.
  const third = await loginAndConsent(config, 'mqtt:sub:sensors/# offline_access');
  const t3 = await client.authorizationCodeGrant(config, third.callback, {
    pkceCodeVerifier: third.verifier,
    expectedState: third.state,
  });
  await client.tokenRevocation(config, t3.refresh_token);
  await assert.rejects(client.refreshTokenGrant(config, t3.refresh_token), (err) => err.error === 'invalid_grant');
  const rs = await configFor(server, 'rs', 'basic');
  assert.equal((await client.tokenIntrospection(rs, t3.access_token)).active, false,
    'RFC 7009 §2.1: revoking the refresh token revoked the access tokens of the grant');
});

test('a redirect URI with an extra path is refused without redirecting', async () => {
  const config = await configFor(server, 'web', 'basic');
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: 'http://127.0.0.1:53682/cb/extra',
    scope: 'offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
});
