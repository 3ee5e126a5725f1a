// The resource owner password grant (RFC 6749 §4.3) through openid-client: absent from the
// metadata until one client has it (RFC 9700 §2.4), enabled for that client only, and locked out
// after failures per user name and per client address (the test server: 3 per user, 8 per address).
// The tests run in order: the address lockout is last.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, admin, secretOf, configFor, verifyWithJose, client } from './common.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const insecure = { execute: [client.allowInsecureRequests] };
let legacy;

function passwordGrant(config, username, password) {
  return client.genericGrantRequest(config, 'password', { username, password, scope: 'mqtt:sub:sensors/#' });
}

function refusedWith(description) {
  return (err) => err.error === 'invalid_grant' && description.test(err.error_description);
}

test('absent from the metadata until a client has it, then listed', async () => {
  const before = (await configFor(server, 'svc', 'post')).serverMetadata();
  assert.ok(!before.grant_types_supported.includes('password'));
  const out = await admin(server, ['client', 'add', '--id', 'legacy', '--grant', 'password',
    '--scope', 'mqtt:sub:sensors/#']);
  const secret = secretOf(out);
  legacy = await client.discovery(new URL(server.issuer), 'legacy', secret, client.ClientSecretBasic(secret),
    insecure);
  assert.ok(legacy.serverMetadata().grant_types_supported.includes('password'));
});

test('the enabled client gets tokens for the user', async () => {
  const tokens = await passwordGrant(legacy, server.user, server.password);
  const { payload } = await verifyWithJose(server, tokens.access_token);
  assert.equal(payload.sub, server.user);
  assert.equal(payload.client_id, 'legacy');
});

test('any other client is unauthorized_client (enabled per client)', async () => {
  const svc = await configFor(server, 'svc', 'post');
  await assert.rejects(passwordGrant(svc, server.user, server.password),
    (err) => err.error === 'unauthorized_client');
});

test('a user name is locked after the configured failures, even with the right password', async () => {
  await admin(server, ['user', 'add', 'bob'], 'bob has a long password\n');
  for (let i = 0; i < server.login_max_failures; ++i) {
    await assert.rejects(passwordGrant(legacy, 'bob', `wrong ${i}`), refusedWith(/invalid user name or password/));
  }
  await assert.rejects(passwordGrant(legacy, 'bob', 'bob has a long password'), refusedWith(/too many failed attempts/));
  // Another user from the same address is not locked yet.
  await passwordGrant(legacy, server.user, server.password);
});

test('an address is locked after the configured failures across user names', async () => {
  // bob's failures count for the address too.
  const left = server.login_address_max_failures - server.login_max_failures;
  for (let i = 0; i < left; ++i) {
    await assert.rejects(passwordGrant(legacy, `nobody-${i}`, 'wrong'), refusedWith(/invalid user name or password/));
  }
  await assert.rejects(passwordGrant(legacy, server.user, server.password), refusedWith(/too many failed attempts/));
});
