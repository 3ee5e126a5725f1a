// The implicit grant (RFC 6749 §4.2, response_type=token) in Chromium (playwright-core): off
// unless enabled per client and absent from the metadata until then (RFC 9700 §2.1.2); the token
// comes back in the fragment with state and iss; a client without it gets unauthorized_client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, startClientSite, admin, verifyWithJose } from './common.mjs';

let server;
let browser;
let site;
let redirectUri;
before(async () => {
  server = await startServer();
  site = await startClientSite();
  redirectUri = `${site.origin}/cb`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
after(async () => { await browser?.close(); await site?.close(); await server?.stop(); });

async function metadata() {
  return (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json();
}

function authorizeUrl(clientId, state) {
  const url = new URL(`${server.issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'token', client_id: clientId, redirect_uri: redirectUri, scope: 'mqtt:sub:sensors/#', state,
  }).toString();
  return url.href;
}

/// Opens url in a fresh page; returns the page.
async function openAt(url) {
  const page = await browser.newPage();
  await page.goto(url);
  return page;
}

function atCallback(url) {
  return url.href.startsWith(`${redirectUri}#`);
}

test('absent from the metadata while no client has it', async () => {
  const meta = await metadata();
  assert.ok(!meta.response_types_supported.includes('token'));
  assert.ok(!meta.grant_types_supported.includes('implicit'));
});

test('a client without implicit gets unauthorized_client in the fragment, no token', async () => {
  // "web" has authorization_code only; its registered loopback redirect accepts any port (RFC 8252 §7.3).
  const page = await openAt(authorizeUrl('web', 'st-web'));
  await page.waitForURL(atCallback);
  const fragment = new URLSearchParams(new URL(page.url()).hash.slice(1));
  await page.close();
  assert.equal(fragment.get('error'), 'unauthorized_client');
  assert.equal(fragment.get('state'), 'st-web');
  assert.equal(fragment.get('access_token'), null);
});

test('enabled for one client: sign in, approve, token in the fragment', async () => {
  await admin(server, ['client', 'add', '--id', 'spa', '--name', 'Single page app', '--auth-method', 'none',
    '--grant', 'implicit', '--redirect-uri', redirectUri, '--scope', 'mqtt:sub:sensors/#']);
  const meta = await metadata();
  assert.ok(meta.response_types_supported.includes('token'));

  const page = await openAt(authorizeUrl('spa', 'st-spa'));
  await page.fill('#username', server.user);
  await page.fill('#password', server.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Allow access?');
  assert.ok((await page.content()).includes('Single page app'));
  await page.click('button[value=approve]');
  await page.waitForURL(atCallback);
  const url = new URL(page.url());
  await page.close();
  assert.equal(url.search, '', 'nothing in the query: the token travels in the fragment only');
  const fragment = new URLSearchParams(url.hash.slice(1));
  assert.equal(fragment.get('state'), 'st-spa');
  assert.equal(fragment.get('iss'), server.issuer, 'RFC 9207');
  assert.equal(fragment.get('token_type'), 'Bearer');
  assert.equal(fragment.get('refresh_token'), null, 'RFC 6749 §4.2.2: no refresh token');
  const { payload } = await verifyWithJose(server, fragment.get('access_token'));
  assert.equal(payload.sub, server.user);
  assert.equal(payload.client_id, 'spa');
  assert.equal(payload.scope, 'mqtt:sub:sensors/#');
});
