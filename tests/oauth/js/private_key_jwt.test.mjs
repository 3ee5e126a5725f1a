// private_key_jwt client authentication (RFC 7523 §2.2, §3) with openid-client's PrivateKeyJwt:
// the client is registered with `tollgate admin client add --auth-method private_key_jwt
// --jwks-file` while the server runs; a replayed assertion (same jti) and a wrong audience are
// invalid_client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, admin, verifyWithJose, isInvalidClient, client, jose } from './common.mjs';

let server;
let keyDir;
let privateKey;
const kid = 'pkjwt-key-1';
before(async () => {
  server = await startServer();
  keyDir = mkdtempSync(join(tmpdir(), 'tg-pkjwt-'));
  const pair = await jose.generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
  const jwksFile = join(keyDir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const out = await admin(server, ['client', 'add', '--id', 'pkjwt', '--auth-method', 'private_key_jwt',
    '--jwks-file', jwksFile, '--grant', 'client_credentials', '--scope', 'mqtt:pub:sensors/#']);
  assert.match(out, /auth_method: +private_key_jwt/);
  assert.doesNotMatch(out, /client_secret:/, 'a private_key_jwt client has no secret');
});
after(async () => { await server?.stop(); rmSync(keyDir, { recursive: true, force: true }); });

/// openid-client configuration for pkjwt; options go to PrivateKeyJwt (modifyAssertion).
async function configWith(key, options) {
  return client.discovery(new URL(server.issuer), 'pkjwt', {}, client.PrivateKeyJwt({ key, kid }, options),
    { execute: [client.allowInsecureRequests] });
}

test('metadata lists private_key_jwt and its algorithms', async () => {
  const meta = (await configWith(privateKey)).serverMetadata();
  assert.ok(meta.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(meta.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
});

test('openid-client authenticates with a signed assertion (RFC 7523 §2.2)', async () => {
  const config = await configWith(privateKey);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'mqtt:pub:sensors/#' });
  const { payload } = await verifyWithJose(server, tokens.access_token);
  assert.equal(payload.client_id, 'pkjwt');
  assert.equal(payload.sub, 'pkjwt');
  assert.equal(tokens.refresh_token, undefined);
});

test('a replayed assertion is invalid_client (RFC 7523 §3 item 7: jti used once)', async () => {
  const config = await configWith(privateKey);
  let sentBody;
  config[client.customFetch] = (url, options) => {
    sentBody = String(options.body);
    return fetch(url, options);
  };
  await client.clientCredentialsGrant(config, {});
  assert.match(sentBody, /client_assertion=/);
  // The very same request body again, assertion and all: refused.
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: sentBody,
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, 'invalid_client');
  assert.ok(res.headers.get('www-authenticate'));

  // A fresh signature over a jti already seen is a replay too.
  const fixed = await configWith(privateKey, {
    [client.modifyAssertion]: (_header, payload) => { payload.jti = 'the-same-jti'; },
  });
  await client.clientCredentialsGrant(fixed, {});
  await assert.rejects(client.clientCredentialsGrant(fixed, {}), isInvalidClient);
});

test('an assertion for another audience is invalid_client (RFC 7523 §3 item 3)', async () => {
  const config = await configWith(privateKey, {
    [client.modifyAssertion]: (_header, payload) => { payload.aud = 'https://other-as.example/token'; },
  });
  await assert.rejects(client.clientCredentialsGrant(config, {}), isInvalidClient);
});

test('an assertion signed with a key not in the registered JWKS is invalid_client', async () => {
  const other = await jose.generateKeyPair('ES256', { extractable: true });
  const config = await configWith(other.privateKey);
  await assert.rejects(client.clientCredentialsGrant(config, {}), isInvalidClient);
});

test('an assertion naming another client is invalid_client (RFC 7523 §3 items 1-2)', async () => {
  const config = await configWith(privateKey, {
    [client.modifyAssertion]: (_header, payload) => { payload.iss = 'svc'; },
  });
  await assert.rejects(client.clientCredentialsGrant(config, {}), isInvalidClient);
});
