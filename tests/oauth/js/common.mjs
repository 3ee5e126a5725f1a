// Starts a real authorization server process (oauth_test_server) for one test file and gives
// the clients what they need: issuer, client secrets, openid-client configurations.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import * as jose from 'jose';

export async function startServer() {
  const binary = process.env.OAUTH_TEST_SERVER;
  if (!binary) throw new Error('OAUTH_TEST_SERVER is not set (run through ctest)');
  const dir = mkdtempSync(join(tmpdir(), 'tg-oauth-e2e-'));
  const readyFile = join(dir, 'ready.json');
  const child = spawn(binary, [join(dir, 'data'), readyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // The server prints one line "ready" on stdout once its ready file is written.
  await new Promise((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      if (seen.includes('ready\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
  const ready = JSON.parse(readFileSync(readyFile, 'utf8'));
  return {
    ...ready,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const insecure = { execute: [client.allowInsecureRequests] };

/// openid-client configuration for a client of the test server, found by RFC 8414 / OIDC discovery.
export async function configFor(server, clientId, auth) {
  const secret = server.secrets[clientId];
  let method;
  if (auth === 'basic') method = client.ClientSecretBasic(secret);
  else if (auth === 'post') method = client.ClientSecretPost(secret);
  else method = client.None();
  return client.discovery(new URL(server.issuer), clientId, secret, method, insecure);
}

/// Verifies an access token with the npm `jose` package against our JWKS (RFC 9068 rules).
export async function verifyWithJose(server, token) {
  const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
    issuer: server.issuer,
    audience: 'urn:tollgate:broker',
    typ: 'at+jwt',
    algorithms: ['ES256'],
    requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
  });
  return { payload, protectedHeader };
}

export { client };
