// RFC 7009 revocation and RFC 7662 introspection through openid-client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, configFor, client } from './common.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('introspection reports an active token, then inactive after revocation', async () => {
  const svc = await configFor(server, 'svc', 'post');
  const rs = await configFor(server, 'rs', 'basic');
  const { access_token } = await client.clientCredentialsGrant(svc, { scope: 'mqtt:sub:sensors/#' });
  const before = await client.tokenIntrospection(rs, access_token);
  assert.equal(before.active, true);
  assert.equal(before.client_id, 'svc');
  assert.equal(before.scope, 'mqtt:sub:sensors/#');
  await client.tokenRevocation(svc, access_token);
  const afterRevoke = await client.tokenIntrospection(rs, access_token);
  assert.equal(afterRevoke.active, false);
});

test('unknown tokens: revocation succeeds (RFC 7009 §2.2), introspection says inactive', async () => {
  const svc = await configFor(server, 'svc', 'post');
  const rs = await configFor(server, 'rs', 'basic');
  await client.tokenRevocation(svc, 'not-a-token');
  assert.equal((await client.tokenIntrospection(rs, 'not-a-token')).active, false);
});

test('introspection without client authentication is refused (RFC 7662 §2.1)', async () => {
  const res = await fetch(`${server.issuer}/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'token=x',
  });
  assert.equal(res.status, 401);
  assert.ok(res.headers.get('www-authenticate'));
});
