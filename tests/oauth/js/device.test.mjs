// RFC 8628 device flow: openid-client polls as a public client while Chromium (playwright-core)
// signs in on /device, enters the user code and approves.
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

test('device code approved in a real browser', async () => {
  const config = await configFor(server, 'tv', 'none');
  const auth = await client.initiateDeviceAuthorization(config, { scope: 'mqtt:pub:sensors/# offline_access' });
  assert.match(auth.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  const polling = client.pollDeviceAuthorizationGrant(config, auth);

  const page = await browser.newPage();
  await page.goto(auth.verification_uri);
  await page.fill('#username', server.user);
  await page.fill('#password', server.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#user_code');
  await page.fill('#user_code', auth.user_code.toLowerCase());  // case-insensitive entry
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Connect this device?');
  assert.ok((await page.content()).includes(auth.user_code));
  await page.click('button[value=approve]');
  await page.waitForSelector('text=Device connected');
  await page.close();

  const tokens = await polling;
  assert.ok(tokens.refresh_token);
  const { payload } = await verifyWithJose(server, tokens.access_token);
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.client_id, 'tv');
});

test('denied in the browser gives access_denied to the device', async () => {
  const config = await configFor(server, 'tv', 'none');
  const auth = await client.initiateDeviceAuthorization(config, { scope: 'mqtt:pub:sensors/#' });
  // Settle at once: the rejection may come while the browser is still busy.
  const outcome = client.pollDeviceAuthorizationGrant(config, auth).then(() => null, (err) => err);
  const page = await browser.newPage();
  await page.goto(auth.verification_uri_complete);
  await page.fill('#username', server.user);
  await page.fill('#password', server.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#user_code');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Connect this device?');
  await page.click('button[value=deny]');
  await page.waitForSelector('text=Request denied');
  await page.close();
  const err = await outcome;
  assert.equal(err?.error, 'access_denied');
});
