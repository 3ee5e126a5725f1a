// Starts a real authorization server process (oauth_test_server) for one test file and gives
// the clients what they need: issuer, client secrets, openid-client configurations.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import * as jose from 'jose';

/// options.tls: serve HTTPS and ask for client certificates, with a PKI from scripts/gen-test-certs
/// (the result then has certs: the directory holding ca.crt, client.crt, rogue-client.crt, ...).
export async function startServer(options = {}) {
  const binary = process.env.OAUTH_TEST_SERVER;
  if (!binary) throw new Error('OAUTH_TEST_SERVER is not set (run through ctest)');
  const dir = mkdtempSync(join(tmpdir(), 'tg-oauth-e2e-'));
  const readyFile = join(dir, 'ready.json');
  const args = [join(dir, 'data'), readyFile];
  let certs;
  if (options.tls) {
    certs = join(dir, 'certs');
    const script = join(dirname(fileURLToPath(import.meta.url)), '../../../scripts/gen-test-certs');
    execFileSync(script, [certs], { stdio: 'inherit' });
    args.push(certs);
  }
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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
    certs,
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

/// Runs `tollgate admin --data-dir <the server's> ...args` (apps/tollgate/admin.cpp) while the
/// server runs; resolves with stdout, rejects with the exit code and stderr.
export function admin(server, args, input = '') {
  const binary = process.env.OAUTH_ADMIN_CLI;
  if (!binary) throw new Error('OAUTH_ADMIN_CLI is not set (run through ctest)');
  return new Promise((resolve, reject) => {
    const child = execFile(binary, ['admin', '--data-dir', server.data_dir, ...args], (err, stdout, stderr) => {
      if (err) reject(Object.assign(new Error(`admin ${args.join(' ')}: ${stderr}`), { code: err.code }));
      else resolve(stdout);
    });
    child.stdin.end(input);
  });
}

/// The client_secret line of `admin client add` output.
export function secretOf(adminOutput) {
  const m = /^client_secret: (\S+)$/m.exec(adminOutput);
  if (!m) throw new Error(`no client_secret in: ${adminOutput}`);
  return m[1];
}

/// A stand-in for a client's web site on a loopback port (browser redirects land here: Playwright
/// does not intercept the redirects of a navigation). Every path answers 200 "client page",
/// except /csrf?action=URL: a page whose form posts client_id=portal to URL on load, as an
/// attacker's page would. Resolves with { origin, close() }.
export async function startClientSite() {
  const site = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/csrf') {
      const action = url.searchParams.get('action').replace(/[<>"&]/g, '');
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><form method="post" action="${action}"><input name="client_id" value="portal">` +
        '</form><script>document.forms[0].submit()</script>');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('client page');
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${site.address().port}`,
    close: () => new Promise((resolve) => { site.closeAllConnections(); site.close(resolve); }),
  };
}

/// A fetch() over node:https with a CA and, optionally, a client certificate, for openid-client's
/// customFetch and for plain requests to the HTTPS test server.
export function tlsFetch({ ca, cert, key }) {
  return (url, options = {}) => new Promise((resolve, reject) => {
    const headers = {};
    new Headers(options.headers).forEach((v, k) => { headers[k] = v; });
    const req = https.request(new URL(url), {
      method: options.method ?? 'GET', headers, ca, cert, key, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          for (const item of Array.isArray(v) ? v : [v]) h.append(k, item);
        }
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: h }));
      });
    });
    req.on('error', reject);
    req.end(options.body === undefined || options.body === null ? undefined : String(options.body));
  });
}

/// base64url(SHA-256(DER)) of a PEM certificate: the RFC 8705 §3.1 x5t#S256 value.
export function certificateThumbprint(pem) {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

/// True when err is openid-client's report of an invalid_client answer (401 with a Bearer/Basic
/// challenge, or the error JSON).
export function isInvalidClient(err) {
  return err?.error === 'invalid_client' ||
    (err?.status === 401 && err?.cause?.[0]?.parameters?.error === 'invalid_client');
}

export { client, jose };
