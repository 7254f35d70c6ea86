// Second factors in a real browser: headless Chromium (Debian's, driven by playwright-core)
// with the Chrome DevTools virtual authenticator (WebAuthn.addVirtualAuthenticator).
//
// Usage:
//   node mfa_flow.mjs passkey BASE_URL EMAIL PASSWORD
//     Signs in with the password, registers a passkey through /me/webauthn/register/*,
//     signs out, then signs in on /login with the passkey alone ("Sign in with a passkey"),
//     then with the password and the passkey as the second factor ("Use a passkey").
//     Then rolls the authenticator's signature counter back and tries again: refused.
//     Prints {"registered": …, "passkey_sign_in": {…/me}, "after_rollback": {status, page}}.
//   node mfa_flow.mjs totp AUTHORIZE_URL EMAIL PASSWORD CODE CALLBACK_PORT
//     Opens the authorization URL, signs in with the password, enters CODE on the
//     second-factor page, allows on the consent page, and is sent back to the callback
//     served here. Prints {"callback": …, "second_factor_page": true|false}.

import http from 'node:http';
import { chromium } from 'playwright-core';

const [mode, ...args] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// JSON API calls made by the page itself (same origin, the browser's cookies)
async function api(page, method, path, body, csrf) {
  return page.evaluate(async ([method, path, body, csrf]) => {
    const headers = { 'content-type': 'application/json' };
    if (csrf) headers['x-csrf-token'] = csrf;
    const response = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === null ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, body: json };
  }, [method, path, body, csrf]);
}

async function passkeyFlow([base, email, password]) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  await page.goto(`${base}/login`);
  const login = await api(page, 'POST', '/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`password sign-in: ${JSON.stringify(login)}`);
  const csrf = login.body.csrf_token;

  // Registration, as a page would do it: the server's options straight into the browser.
  const start = await api(page, 'POST', '/me/webauthn/register/start', { name: 'virtual key', password }, csrf);
  if (start.status !== 200) throw new Error(`register/start: ${JSON.stringify(start)}`);
  const credential = await page.evaluate(async (options) => {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey);
    const created = await navigator.credentials.create({ publicKey });
    return created.toJSON();
  }, start.body.options);
  const finish = await api(page, 'POST', '/me/webauthn/register/finish',
    { ceremony_id: start.body.ceremony_id, credential }, csrf);
  if (finish.status !== 201) throw new Error(`register/finish: ${JSON.stringify(finish)}`);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  if (credentials.length !== 1 || !credentials[0].isResidentCredential) {
    throw new Error(`expected one discoverable credential, got ${JSON.stringify(credentials)}`);
  }

  const logout = await api(page, 'POST', '/auth/logout', null, csrf);
  if (logout.status !== 204) throw new Error(`logout: ${JSON.stringify(logout)}`);
  const signedOut = await api(page, 'GET', '/me', null);
  if (signedOut.status !== 401) throw new Error(`still signed in after logout: ${signedOut.status}`);

  // The sign-in page's passkey button, no password typed.
  await page.goto(`${base}/login`);
  await Promise.all([
    page.waitForURL((url) => url.pathname.startsWith('/account')),
    page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
  ]);
  const me = await api(page, 'GET', '/me', null);
  if (me.status !== 200) throw new Error(`after passkey sign-in /me: ${JSON.stringify(me)}`);

  // The passkey as the second factor after the password, on the sign-in pages.
  await context.clearCookies();
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForLoadState(),
    page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
  await Promise.all([
    page.waitForURL((url) => url.pathname.startsWith('/account')),
    page.getByRole('button', { name: 'Use a passkey' }).click(),
  ]);
  const second = await api(page, 'GET', '/me', null);
  if (second.status !== 200) throw new Error(`after the second factor /me: ${JSON.stringify(second)}`);

  // A cloned authenticator: the same key with a signature counter behind the server's.
  const [used] = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: used.credentialId });
  await cdp.send('WebAuthn.addCredential', {
    authenticatorId,
    credential: { ...used, signCount: 0 },
  });
  await context.clearCookies();
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.locator('#passkey-error').waitFor({ state: 'visible', timeout: 10000 });
  const afterRollback = await api(page, 'GET', '/me', null);
  return {
    registered: finish.body,
    passkey_sign_in: me.body,
    second_factor: second.body,
    after_rollback: {
      status: afterRollback.status,
      page: await page.locator('#passkey-error').textContent(),
    },
  };
}

async function totpFlow([authorizeUrl, email, password, code, port]) {
  let resolveCallback;
  const callbackSeen = new Promise((resolve) => { resolveCallback = resolve; });
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('signed in');
    if (req.url.startsWith('/callback')) resolveCallback(`http://127.0.0.1:${port}${req.url}`);
  });
  await new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
  try {
    const page = await browser.newPage();
    await page.goto(authorizeUrl);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
    const secondFactorPage = await page.getByRole('heading', { name: 'Confirm it is you' }).isVisible();
    await page.getByLabel('Code from your authenticator app, or a recovery code').fill(code);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')),
      page.getByRole('button', { name: 'Verify' }).click()]);
    if (new URL(page.url()).pathname.startsWith('/consent')) {
      await Promise.all([
        page.waitForURL((url) => url.port === String(port)),
        page.getByRole('button', { name: 'Allow' }).click(),
      ]);
    }
    const callback = await Promise.race([
      callbackSeen,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no callback')), 10000)),
    ]);
    return { callback, second_factor_page: secondFactorPage };
  } finally {
    server.close();
  }
}

let exitCode = 0;
try {
  const result = mode === 'passkey' ? await passkeyFlow(args) : await totpFlow(args);
  process.stdout.write(JSON.stringify(result));
} catch (err) {
  process.stderr.write(`mfa flow failed: ${err.stack || err}\n`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
