// client_credentials with openid-client (client_secret_post), tokens verified by npm jose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, configFor, verifyWithJose, client } from './common.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('discovery finds the RFC 8414 metadata with S256 only', async () => {
  const config = await configFor(server, 'svc', 'post');
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, server.issuer);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.ok(meta.grant_types_supported.includes('client_credentials'));
  assert.ok(!meta.grant_types_supported.includes('password'), 'password grant absent while no client has it');
});

test('client_credentials gives an RFC 9068 JWT and no refresh token (RFC 6749 §4.4.3)', async () => {
  const config = await configFor(server, 'svc', 'post');
  const tokens = await client.clientCredentialsGrant(config, { scope: 'mqtt:pub:sensors/#' });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.refresh_token, undefined);
  assert.equal(tokens.scope, 'mqtt:pub:sensors/#');
  const { payload, protectedHeader } = await verifyWithJose(server, tokens.access_token);
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.client_id, 'svc');
  assert.equal(payload.sub, 'svc');
  assert.equal(payload.scope, 'mqtt:pub:sensors/#');
  assert.equal(payload.exp - payload.iat, 300);
});

test('a wrong secret is invalid_client', async () => {
  const bad = await client.discovery(new URL(server.issuer), 'svc', 'wrong', client.ClientSecretPost('wrong'),
    { execute: [client.allowInsecureRequests] });
  // 401 with WWW-Authenticate (RFC 6749 §5.2); oauth4webapi reports the parsed challenge.
  await assert.rejects(client.clientCredentialsGrant(bad, {}),
    (err) => err.status === 401 && err.cause?.[0]?.parameters?.error === 'invalid_client');
});

test('a scope the client may not have is invalid_scope', async () => {
  const config = await configFor(server, 'svc', 'post');
  await assert.rejects(client.clientCredentialsGrant(config, { scope: 'admin' }), (err) => err.error === 'invalid_scope');
});
