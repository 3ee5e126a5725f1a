#!/usr/bin/env node
// A node oidc-provider authorization server for tollgate's tests and benchmarks (README.md here).
// Test use only: signing keys are generated at start and live in memory, and /test/* routes let
// any local caller rotate them.
import cluster from 'node:cluster';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const ALGS = new Set(['RS256', 'ES256', 'EdDSA']);

function usage(message) {
  if (message) process.stderr.write(`provider.mjs: ${message}\n`);
  process.stderr.write(`usage: node provider.mjs --clients FILE [options]
  --clients FILE       JSON array of clients (README.md); env OIDC_CLIENTS
  --issuer URL         issuer; default <scheme>://<host>:<port> once listening; env OIDC_ISSUER
  --host ADDR          listen address (default 127.0.0.1); env OIDC_HOST
  --port N             listen port, 0 = any free one (default 0); env OIDC_PORT
  --cert FILE --key FILE  serve HTTPS with this PEM certificate and key; env OIDC_CERT, OIDC_KEY
  --alg A              access token signing alg RS256 | ES256 | EdDSA (default ES256); env OIDC_ALG
  --resource URN       resource indicator and aud (default urn:tollgate:broker); env OIDC_RESOURCE
  --token-format F     jwt | opaque (default jwt; a client's "token_format" overrides); env OIDC_TOKEN_FORMAT
  --token-ttl S        access token lifetime in seconds (default 600); env OIDC_TOKEN_TTL
  --ready-file FILE    write {"port","issuer","pid"} here once listening; env OIDC_READY_FILE
  --workers N          node cluster workers sharing the port (default 1; >1 only for benchmarks:
                       opaque tokens, introspection, revocation and rotation are per worker)
`);
  process.exit(2);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        clients: { type: 'string' },
        issuer: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        alg: { type: 'string' },
        resource: { type: 'string' },
        'token-format': { type: 'string' },
        'token-ttl': { type: 'string' },
        'ready-file': { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    usage(err.message);
  }
  if (parsed.help) usage();
  const env = process.env;
  const o = {
    clients: parsed.clients ?? env.OIDC_CLIENTS,
    issuer: parsed.issuer ?? env.OIDC_ISSUER,
    host: parsed.host ?? env.OIDC_HOST ?? '127.0.0.1',
    port: Number(parsed.port ?? env.OIDC_PORT ?? 0),
    cert: parsed.cert ?? env.OIDC_CERT,
    key: parsed.key ?? env.OIDC_KEY,
    alg: parsed.alg ?? env.OIDC_ALG ?? 'ES256',
    resource: parsed.resource ?? env.OIDC_RESOURCE ?? 'urn:tollgate:broker',
    tokenFormat: parsed['token-format'] ?? env.OIDC_TOKEN_FORMAT ?? 'jwt',
    tokenTtl: Number(parsed['token-ttl'] ?? env.OIDC_TOKEN_TTL ?? 600),
    readyFile: parsed['ready-file'] ?? env.OIDC_READY_FILE,
    workers: Number(parsed.workers ?? env.OIDC_WORKERS ?? 1),
  };
  if (!o.clients) usage('--clients is required');
  if (!ALGS.has(o.alg)) usage(`--alg must be one of ${[...ALGS].join(', ')}`);
  if (!['jwt', 'opaque'].includes(o.tokenFormat)) usage('--token-format must be jwt or opaque');
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) usage('bad --port');
  if (!Number.isInteger(o.tokenTtl) || o.tokenTtl < 1) usage('bad --token-ttl');
  if (!Number.isInteger(o.workers) || o.workers < 1) usage('bad --workers');
  if (Boolean(o.cert) !== Boolean(o.key)) usage('--cert and --key go together');
  const loopback = o.host === 'localhost' || o.host === '::1' || o.host.startsWith('127.');
  if (!o.cert && !loopback) usage('plain http is for loopback only: give --cert/--key');
  return o;
}

// A private signing JWK for `alg`, with a random kid.
function newSigningKey(alg) {
  const pair = alg === 'RS256' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256' ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : crypto.generateKeyPairSync('ed25519');
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: crypto.randomBytes(8).toString('hex') };
}

// Reads the clients file: oidc-provider client metadata plus our "token_format" (jwt | opaque).
function loadClients(path, defaultFormat) {
  const list = JSON.parse(fs.readFileSync(path, 'utf8'));
  if (!Array.isArray(list)) throw new Error(`${path}: expected a JSON array of clients`);
  const formats = new Map();
  const clients = list.map(({ token_format: format, ...meta }) => {
    if (!meta.client_id) throw new Error(`${path}: a client without client_id`);
    formats.set(meta.client_id, format ?? defaultFormat);
    return {
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      ...meta,
    };
  });
  return { clients, formats };
}

function makeProvider(o, issuer, clients, formats, keys) {
  const provider = new Provider(issuer, {
    clients,
    // Only keys of one alg exist; id tokens (unused here) must name it too.
    clientDefaults: { id_token_signed_response_alg: o.alg },
    jwks: { keys },
    // Every scope some client may hold; a client asking for one outside its own "scope" gets
    // invalid_scope, one nobody holds is dropped from the grant.
    scopes: ['openid', 'offline_access', ...new Set(clients.flatMap((c) => (c.scope ?? '').split(' ').filter(Boolean)))],
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => o.resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => {
          if (resource !== o.resource) throw new Provider.errors.InvalidTarget();
          return {
            scope: client.scope ?? '',
            audience: o.resource,
            accessTokenTTL: o.tokenTtl,
            accessTokenFormat: formats.get(client.clientId) ?? o.tokenFormat,
            jwt: { sign: { alg: o.alg } },
          };
        },
      },
    },
    ttl: { ClientCredentials: o.tokenTtl, AccessToken: o.tokenTtl },
  });
  provider.on('server_error', (ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
  return provider;
}

function publicJwks(keys) {
  return keys.map(({ kty, crv, x, y, n, e, alg, use, kid }) => ({ kty, crv, x, y, n, e, alg, use, kid }));
}

// Serves one worker (or the only process): the provider, and /test/rotate + /test/retire.
function serve(o, keys) {
  const { clients, formats } = loadClients(o.clients, o.tokenFormat);
  let handler = () => {};
  let issuer = o.issuer;
  const rebuild = () => {
    handler = makeProvider(o, issuer, clients, formats, keys).callback();
  };
  const rotate = () => {
    keys.unshift(newSigningKey(o.alg));
    rebuild();
  };
  const retire = () => {
    keys.splice(1);
    rebuild();
  };
  const reply = (res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const listener = (req, res) => {
    if (req.method === 'POST' && (req.url === '/test/rotate' || req.url === '/test/retire')) {
      if (o.workers > 1) {
        res.writeHead(409).end();
        return;
      }
      if (req.url === '/test/rotate') rotate();
      else retire();
      reply(res, { kid: keys[0].kid, keys: publicJwks(keys) });
      return;
    }
    handler(req, res);
  };
  const server = o.cert
    ? https.createServer({ cert: fs.readFileSync(o.cert), key: fs.readFileSync(o.key) }, listener)
    : http.createServer(listener);
  server.keepAliveTimeout = 30000;
  server.listen(o.port, o.host, () => {
    const { port } = server.address();
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    issuer ??= `${o.cert ? 'https' : 'http'}://${host}:${port}`;
    rebuild();
    if (cluster.isWorker) {
      process.send({ ready: true, port, issuer });
    } else {
      announce(o, port, issuer);
    }
  });
  process.on('SIGUSR2', rotate);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function announce(o, port, issuer) {
  if (o.readyFile) {
    const tmp = `${o.readyFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ port, issuer, pid: process.pid }));
    fs.renameSync(tmp, o.readyFile);
  }
  process.stdout.write(`oidc-provider ready port=${port} issuer=${issuer}\n`);
}

const o = options();
if (cluster.isPrimary && o.workers > 1) {
  // Workers share one listening socket: node's cluster gives every worker that listens on port 0
  // the same port, so all of them announce the same port and issuer.
  const keys = [newSigningKey(o.alg)];
  let ready = 0;
  for (let i = 0; i < o.workers; i += 1) {
    cluster.fork({ OIDC_KEYS: JSON.stringify(keys) }).on('message', (m) => {
      ready += m.ready ? 1 : 0;
      if (ready === o.workers) announce(o, m.port, m.issuer);
    });
  }
  cluster.on('exit', (worker, code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') {
      process.stderr.write(`worker ${worker.process.pid} exited (${code ?? signal})\n`);
    }
  });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    let left = Object.keys(cluster.workers).length;
    cluster.on('exit', () => {
      left -= 1;
      if (left === 0) process.exit(0);
    });
  });
} else {
  const keys = cluster.isWorker ? JSON.parse(process.env.OIDC_KEYS) : [newSigningKey(o.alg)];
  serve(o, keys);
}
