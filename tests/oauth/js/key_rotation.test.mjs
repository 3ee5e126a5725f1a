// Signing key rotation while the server runs: `tollgate admin key rotate` in another process; the
// server picks the new key up (it re-reads the key table every second on the test server), new
// tokens carry the new kid, both kids are in the JWKS, and tokens signed before the rotation still
// verify with npm jose and PyJWT (Debian python3-jwt) from the JWKS, and introspect as active.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, admin, configFor, verifyWithJose, client, jose } from './common.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

async function kids() {
  const jwks = await (await fetch(`${server.issuer}/jwks`)).json();
  return jwks.keys.map((k) => k.kid);
}

/// Polls the JWKS until pred holds (the server re-reads its key table every second).
async function jwksUntil(pred, what) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const current = await kids();
    if (pred(current)) return current;
    if (Date.now() > deadline) throw new Error(`JWKS never showed ${what}: ${current}`);
    await new Promise((resolve) => setTimeout(resolve, 50));  // poll interval
  }
}

function verifyWithPyJWT(token) {
  const script = `
import sys, jwt
client = jwt.PyJWKClient(sys.argv[1] + "/jwks")
key = client.get_signing_key_from_jwt(sys.argv[2])
claims = jwt.decode(sys.argv[2], key.key, algorithms=["ES256", "EdDSA"], audience="urn:tollgate:broker",
                    issuer=sys.argv[1])
print(claims["jti"])
`;
  return execFileSync('/usr/bin/python3', ['-c', script, server.issuer, token], { encoding: 'utf8' }).trim();
}

test('rotation: new kid for new tokens, both kids published, old tokens still verify', async () => {
  const svc = await configFor(server, 'svc', 'post');
  const rs = await configFor(server, 'rs', 'basic');
  const before = await client.clientCredentialsGrant(svc, { scope: 'mqtt:pub:sensors/#' });
  const oldKid = jose.decodeProtectedHeader(before.access_token).kid;
  assert.deepEqual(await kids(), [oldKid]);

  const out = await admin(server, ['key', 'rotate', '--alg', 'EdDSA']);
  const newKid = /^new signing key (\S+)$/m.exec(out)?.[1];
  assert.ok(newKid && newKid !== oldKid, out);
  const published = await jwksUntil((k) => k.includes(newKid), newKid);
  assert.ok(published.includes(oldKid), 'the retired key stays published until its tokens expired');
  assert.equal(published[0], newKid, 'active key first');

  const after = await client.clientCredentialsGrant(svc, { scope: 'mqtt:pub:sensors/#' });
  const header = jose.decodeProtectedHeader(after.access_token);
  assert.equal(header.kid, newKid);
  assert.equal(header.alg, 'EdDSA');

  // Both tokens verify with a fresh remote JWKS in npm jose, and with PyJWT.
  const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  for (const token of [before.access_token, after.access_token]) {
    const { payload } = await jose.jwtVerify(token, jwks, {
      issuer: server.issuer, audience: 'urn:tollgate:broker', typ: 'at+jwt', algorithms: ['ES256', 'EdDSA'],
    });
    assert.equal(verifyWithPyJWT(token), payload.jti);
    assert.equal((await client.tokenIntrospection(rs, token)).active, true);
  }
  await verifyWithJose(server, before.access_token);  // the ES256-only check still passes for the old one
});
