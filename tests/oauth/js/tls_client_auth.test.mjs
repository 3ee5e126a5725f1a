// tls_client_auth (RFC 8705 §2.1) and certificate-bound access tokens (§3): the token endpoint on
// HTTPS asks for client certificates (CA and certificates from scripts/gen-test-certs);
// openid-client authenticates with the certificate through a custom fetch; the access token
// carries cnf.x5t#S256 of that certificate. A certificate with another subject, a certificate
// from another CA and no certificate at all are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, admin, tlsFetch, certificateThumbprint, isInvalidClient, client, jose,
} from './common.mjs';

let server;
let files;
before(async () => {
  server = await startServer({ tls: true });
  const read = (name) => readFileSync(join(server.certs, name), 'utf8');
  files = {
    ca: read('ca.crt'),
    client: { cert: read('client.crt'), key: read('client.key') },
    rogue: { cert: read('rogue-client.crt'), key: read('rogue-client.key') },
  };
  // RFC 4514 order (most specific first) of the subject "/O=tollgate test/CN=test-client".
  await admin(server, ['client', 'add', '--id', 'mtls', '--auth-method', 'tls_client_auth',
    '--tls-subject-dn', 'CN=test-client,O=tollgate test', '--grant', 'client_credentials',
    '--scope', 'mqtt:pub:sensors/#']);
  await admin(server, ['client', 'add', '--id', 'mtls-other', '--auth-method', 'tls_client_auth',
    '--tls-subject-dn', 'CN=other-device,O=tollgate test', '--grant', 'client_credentials',
    '--scope', 'mqtt:pub:sensors/#']);
});
after(async () => { await server?.stop(); });

async function configFor(clientId, identity) {
  const fetchImpl = tlsFetch({ ca: files.ca, ...identity });
  const config = await client.discovery(new URL(server.issuer), clientId, {}, client.TlsClientAuth(),
    { [client.customFetch]: fetchImpl });
  return config;
}

test('metadata advertises tls_client_auth and certificate-bound tokens (RFC 8705 §3.3)', async () => {
  const meta = (await configFor('mtls', files.client)).serverMetadata();
  assert.equal(meta.issuer, server.issuer);
  assert.ok(meta.issuer.startsWith('https://'));
  assert.ok(meta.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
  assert.equal(meta.tls_client_certificate_bound_access_tokens, true);
});

test('a client authenticated by its certificate gets a token bound to it (cnf.x5t#S256)', async () => {
  const config = await configFor('mtls', files.client);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'mqtt:pub:sensors/#' });
  // Verify with npm jose against the JWKS fetched over the same HTTPS listener.
  const jwks = await (await tlsFetch({ ca: files.ca })(`${server.issuer}/jwks`)).json();
  const { payload } = await jose.jwtVerify(tokens.access_token, jose.createLocalJWKSet(jwks), {
    issuer: server.issuer,
    audience: 'urn:tollgate:broker',
    typ: 'at+jwt',
  });
  assert.equal(payload.client_id, 'mtls');
  assert.equal(payload.cnf['x5t#S256'], certificateThumbprint(files.client.cert));
});

test('a valid certificate with another subject is invalid_client (RFC 8705 §2.1.2)', async () => {
  const config = await configFor('mtls-other', files.client);
  await assert.rejects(client.clientCredentialsGrant(config, {}), isInvalidClient);
});

test('no client certificate is invalid_client', async () => {
  const config = await configFor('mtls', {});
  await assert.rejects(client.clientCredentialsGrant(config, {}), isInvalidClient);
});

test('a certificate from an untrusted CA is refused in the TLS handshake', async () => {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'mtls' });
  const attempt = tlsFetch({ ca: files.ca, ...files.rogue })(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  // TLS 1.3 reports the server's alert on the first read: either way, no HTTP answer.
  await assert.rejects(attempt, (err) => err instanceof Error && !('status' in err));
});
