// Cross-implementation test of libs/jose against the npm "jose" package (pinned in package.json,
// installed into tests/interop/jose/node_modules by setup.sh), for every algorithm, both ways:
//   ours -> jose: jose_tool keygen + sign; jose.jwtVerify with the public JWK.
//   jose -> ours: jose generates the key and signs; jose_tool verify with a JWKS.
// Usage: node interop_node.mjs JOSE_TOOL WORKDIR. Exit status 0 only if every case passes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';

const [tool, work] = process.argv.slice(2);
mkdirSync(work, { recursive: true });
const ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'EdDSA'];
const ISS = 'https://as.example';
const AUD = 'broker';
const failures = [];

function claims() {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISS, aud: AUD, sub: 'device-1', iat: now, exp: now + 300, scope: ['mqtt:pub:a/b'], jti: `n-${now}` };
}

function run(args, input = '') {
  return spawnSync(tool, args, { input, encoding: 'utf8' });
}

function sameClaims(a, b) {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

async function oursToJose(alg) {
  const kid = `ours-${alg}`;
  const priv = run(['keygen', alg, kid]);
  if (priv.status !== 0) return failures.push(`${alg} keygen: ${priv.stderr}`);
  const privPath = join(work, `${kid}.jwk`);
  writeFileSync(privPath, priv.stdout);
  const expected = claims();
  const signed = run(['sign', privPath, alg, 'at+jwt'], JSON.stringify(expected));
  if (signed.status !== 0) return failures.push(`${alg} sign: ${signed.stderr}`);
  const token = signed.stdout.trim();
  const publicJwk = alg.startsWith('HS') ? JSON.parse(priv.stdout) : JSON.parse(run(['public', privPath]).stdout);
  try {
    const key = await jose.importJWK(publicJwk, alg);
    const { payload, protectedHeader } = await jose.jwtVerify(token, key, {
      algorithms: [alg], issuer: ISS, audience: AUD, typ: 'at+jwt',
    });
    if (!sameClaims(payload, expected)) failures.push(`${alg} ours->jose: claims differ`);
    if (protectedHeader.kid !== kid) failures.push(`${alg} ours->jose: kid missing`);
  } catch (e) {
    failures.push(`${alg} ours->jose: ${e}`);
  }
}

async function joseToOurs(alg) {
  const kid = `npm-${alg}`;
  let signingKey;
  let publicJwk;
  if (alg.startsWith('HS')) {
    signingKey = await jose.generateSecret(alg, { extractable: true });
    publicJwk = await jose.exportJWK(signingKey);
  } else {
    const pair = await jose.generateKeyPair(alg, { extractable: true, crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
    signingKey = pair.privateKey;
    publicJwk = await jose.exportJWK(pair.publicKey);
  }
  publicJwk.kid = kid;
  const expected = claims();
  const token = await new jose.SignJWT(expected).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(signingKey);
  const jwksPath = join(work, `${kid}.jwks`);
  writeFileSync(jwksPath, JSON.stringify({ keys: [publicJwk] }));
  const result = run(['verify', jwksPath, alg, ISS, AUD, 'at+jwt'], token);
  if (result.status !== 0) return failures.push(`${alg} jose->ours: ${result.stderr.trim()}`);
  if (!sameClaims(JSON.parse(result.stdout), expected)) failures.push(`${alg} jose->ours: claims differ`);
  // The same token with the alg relabelled or the payload swapped is refused.
  const [h, , s] = token.split('.');
  const forged = `${h}.${jose.base64url.encode(JSON.stringify({ ...expected, sub: 'root' }))}.${s}`;
  if (run(['verify', jwksPath, alg, ISS, AUD, 'at+jwt'], forged).status !== 1) {
    failures.push(`${alg} jose->ours: tampered token accepted`);
  }
}

for (const alg of ALGS) {
  await oursToJose(alg);
  await joseToOurs(alg);
}
for (const f of failures) console.log('FAIL', f);
console.log(`node interop: ${ALGS.length} algorithms, ${failures.length} failures`);
process.exit(failures.length ? 1 : 0);
