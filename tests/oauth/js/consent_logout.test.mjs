// Remembered consent and /logout in Chromium (playwright-core), with openid-client redeeming the
// codes. A confidential client registered (by `tollgate admin client add`) with a post-logout
// redirect URI: the first authorization asks for consent and the user ticks "Don't ask again";
// the next one comes straight back with a code; /logout asks for confirmation, refuses a
// cross-site form (CSRF), ends the session, and returns only to the registered URI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, startClientSite, admin, secretOf, client } from './common.mjs';

let server;
let browser;
let context;
let config;
let site;  // the client's web site: redirect and post-logout URIs, and an attacker's page
let redirectUri;
let byeUri;
const scope = 'mqtt:sub:sensors/#';

before(async () => {
  server = await startServer();
  site = await startClientSite();
  redirectUri = `${site.origin}/cb`;
  byeUri = `${site.origin}/bye`;
  const out = await admin(server, ['client', 'add', '--id', 'portal', '--name', 'Sensor portal',
    '--grant', 'authorization_code', '--redirect-uri', redirectUri, '--post-logout-redirect-uri', byeUri,
    '--scope', scope, '--scope', 'mqtt:pub:sensors/#']);
  const secret = secretOf(out);
  config = await client.discovery(new URL(server.issuer), 'portal', secret, client.ClientSecretBasic(secret),
    { execute: [client.allowInsecureRequests] });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  context = await browser.newContext();  // one browser profile: the session cookie persists
});
after(async () => { await browser?.close(); await site?.close(); await server?.stop(); });

/// Starts an authorization in a new tab; returns { page, verifier, state }.
async function startAuthorization(requested = scope) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: requested, state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const page = await context.newPage();
  await page.goto(url.href);
  return { page, verifier, state };
}

async function redeem(page, verifier, state) {
  await page.waitForURL((url) => url.href.startsWith(`${redirectUri}?`));
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
    pkceCodeVerifier: verifier, expectedState: state,
  });
  await page.close();
  return tokens;
}

async function signIn(page) {
  await page.fill('#username', server.user);
  await page.fill('#password', server.password);
  await page.click('button[type=submit]');
}

test('consent remembered when asked: the second authorization needs no page', async () => {
  const first = await startAuthorization();
  await signIn(first.page);
  await first.page.waitForSelector('text=Allow access?');
  await first.page.check('#remember');
  await first.page.click('button[value=approve]');
  assert.ok((await redeem(first.page, first.verifier, first.state)).access_token);

  const second = await startAuthorization();
  const tokens = await redeem(second.page, second.verifier, second.state);
  assert.equal(tokens.scope, scope);

  // A permission never approved asks again.
  const wider = await startAuthorization(`${scope} mqtt:pub:sensors/#`);
  await wider.page.waitForSelector('text=Allow access?');
  assert.ok((await wider.page.content()).includes('Publish messages to topics matching sensors/#'));
  await wider.page.close();
});

test('a cross-site form cannot sign the user out (logout CSRF)', async () => {
  // The attacker's page posts client_id=portal to /logout with the user's cookies, without the
  // token of the server's own page.
  const evil = await context.newPage();
  const refused = evil.waitForResponse((res) => res.url() === `${server.issuer}/logout`);
  await evil.goto(`${site.origin}/csrf?action=${encodeURIComponent(`${server.issuer}/logout`)}`);
  assert.equal((await refused).status(), 403);
  await evil.waitForSelector('text=Request refused');
  await evil.close();
  // Still signed in, consent still remembered: straight back with a code.
  const still = await startAuthorization();
  assert.ok((await redeem(still.page, still.verifier, still.state)).access_token);
});

test('logout asks, ends the session and returns to the registered URI with state', async () => {
  const page = await context.newPage();
  const url = new URL(`${server.issuer}/logout`);
  url.search = new URLSearchParams({ client_id: 'portal', post_logout_redirect_uri: byeUri, state: 'see you' });
  const shown = await page.goto(url.href);
  assert.match(shown.headers()['content-security-policy'], /frame-ancestors 'none'/);
  await page.waitForSelector('text=Sign out?');
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.href.startsWith(`${byeUri}?`));
  assert.equal(new URL(page.url()).searchParams.get('state'), 'see you');
  await page.close();

  // Signed out: the login page again, then no consent page (still remembered).
  const next = await startAuthorization();
  await next.page.waitForSelector('#username');
  await signIn(next.page);
  assert.ok((await redeem(next.page, next.verifier, next.state)).access_token);
});

test('an unregistered post-logout URI is an error page, not a redirect', async () => {
  const page = await context.newPage();
  const url = new URL(`${server.issuer}/logout`);
  url.search = new URLSearchParams({ client_id: 'portal', post_logout_redirect_uri: `${site.origin}/elsewhere` });
  const res = await page.goto(url.href);
  assert.equal(res.status(), 400);
  assert.ok(page.url().startsWith(server.issuer));
  await page.close();
});
