// Example SPA: OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256) as a public client.
// Reads ./config.json: { "issuer": "...", "clientId": "...", "scope": "...", "api": "..." }.
// Tokens stay in memory; only the PKCE verifier, state and nonce wait in sessionStorage
// while the browser is at the sign-in page. No build step, no library.

const $ = (id) => document.getElementById(id);
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const sha256 = (text) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
const claimsOf = (jwt) => JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
const redirectUri = () => location.origin + location.pathname;

const tokens = {};

function status(text) {
  $('status').textContent = text;
}

async function load() {
  const config = await (await fetch('config.json')).json();
  const discovery = await (await fetch(`${config.issuer}/.well-known/openid-configuration`)).json();
  return { config, discovery };
}

async function signIn({ config, discovery }) {
  const verifier = random();
  const state = random(16);
  const nonce = random(16);
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state, nonce }));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scope,
    state,
    nonce,
    code_challenge: b64url(await sha256(verifier)),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.href);
}

async function tokenRequest({ config, discovery }, form) {
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: config.clientId, ...form }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${body.error}: ${body.error_description ?? ''}`);
  Object.assign(tokens, body);
  return body;
}

async function finishSignIn(ctx, params) {
  const saved = JSON.parse(sessionStorage.getItem('pkce') ?? 'null');
  sessionStorage.removeItem('pkce');
  history.replaceState(null, '', redirectUri());
  if (params.get('error')) throw new Error(`${params.get('error')}: ${params.get('error_description') ?? ''}`);
  if (!saved || params.get('state') !== saved.state) throw new Error('state mismatch: ignoring this response');
  await tokenRequest(ctx, { grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri(), code_verifier: saved.verifier });
  // the signature of the id_token was checked by the token endpoint's TLS channel; the nonce binds it to this sign-in
  if (claimsOf(tokens.id_token).nonce !== saved.nonce) throw new Error('nonce mismatch');
}

function show() {
  const id = claimsOf(tokens.id_token);
  const at = claimsOf(tokens.access_token);
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  $('who').textContent = `Signed in as ${id.preferred_username ?? id.sub}${id.email ? ` (${id.email})` : ''}.`;
  $('scopes').textContent = at.scope ?? '';
  $('roles').textContent = (at.roles ?? []).join(', ');
}

async function simulate({ config }) {
  const call = async (path, init = {}) => {
    const res = await fetch(config.api + path, { ...init, headers: { ...init.headers, authorization: `Bearer ${tokens.access_token}` } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`API answered ${res.status}: ${body.error_description ?? body.error ?? ''}`);
    return body;
  };
  const { outbreaks } = await call('/outbreaks');
  const result = await call('/simulate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ outbreakId: outbreaks[0].id, days: 30 }),
  });
  $('result').textContent = `Simulation of ${outbreaks[0].disease} in ${outbreaks[0].region} requested by ${result.requestedBy}:\n${JSON.stringify(result, null, 2).slice(0, 600)}`;
}

function signOut({ config, discovery }) {
  const url = new URL(discovery.end_session_endpoint);
  url.search = new URLSearchParams({ client_id: config.clientId, id_token_hint: tokens.id_token }).toString();
  location.assign(url.href);
}

async function main() {
  const ctx = await load();
  const guard = (fn) => () => fn(ctx).then(() => status(''), (err) => status(err.message));
  $('sign-in').addEventListener('click', guard(signIn));
  $('simulate').addEventListener('click', guard(simulate));
  $('refresh').addEventListener('click', guard(async () => {
    await tokenRequest(ctx, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    show();
  }));
  $('sign-out').addEventListener('click', guard(signOut));
  const params = new URLSearchParams(location.search);
  if (params.has('code') || params.has('error')) {
    await finishSignIn(ctx, params);
    show();
  }
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  status(err.message);
  document.body.dataset.ready = 'true';
});
