// The pages in a real browser: headless Chromium (Debian's, driven by playwright-core)
// signs in, manages an API key, creates, edits, shares and deletes a document as two
// users, inspects tokens and asks the access simulator. axe-core runs on every page
// (serious and critical violations are reported), and each page is photographed at 1280
// and 375 px.
//
// Usage: node pages_flow.mjs CONFIG_JSON
//   CONFIG_JSON: {base, shots, alice: {email, password}, bob: {email, password, token},
//                 cara: {email, password}, org, tokens: {valid, expired, none, unknown}}
// Prints one JSON object with what was seen; the Rust test asserts on it.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const config = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const seen = { axe: {}, shots: [], dialogs: 0 };

// bypassCSP lets the test inject axe-core; the pages' own CSP is checked by the Rust tests.
async function newUser() {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('dialog', async (dialog) => { seen.dialogs += 1; await dialog.dismiss(); });
  return page;
}

// axe-core on the page as it is now, then a screenshot at each width
async function check(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  seen.axe[name] = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    const file = path.join(config.shots, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    seen.shots.push(file);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signIn(page, who) {
  await page.goto(`${config.base}/login`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
}

// Outside the browser, as curl would
async function http(method, url, headers = {}, body) {
  const response = await fetch(url, { method, headers, body });
  return response.status;
}

async function buttons(page) {
  const visible = async (name) => (await page.getByRole('button', { name, exact: true }).count()) > 0;
  return { save: await visible('Save'), share: await visible('Share'), delete: await visible('Delete this document') };
}

async function decisions(documentId) {
  const ask = async (action) => {
    const response = await fetch(`${config.base}/authz/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.bob.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action, resource: { type: 'CloudDocs::Document', id: documentId } }),
    });
    return (await response.json()).decision === 'allow';
  };
  return { save: await ask('update'), share: await ask('share'), delete: await ask('delete') };
}

let exitCode = 0;
try {
  // --- sign in, account, API key ---------------------------------------------------
  const alice = await newUser();
  await alice.goto(`${config.base}/login`);
  await check(alice, 'login');
  await signIn(alice, config.alice);
  seen.after_sign_in = new URL(alice.url()).pathname;
  await check(alice, 'account');

  await alice.getByLabel('Key name').fill('ci key');
  await alice.getByLabel('documents:read').check();
  await Promise.all([alice.waitForResponse((r) => r.url().endsWith('/account/api-keys')), alice.getByRole('button', { name: 'Create key' }).click()]);
  const key = (await alice.locator('#new-key').textContent()).trim();
  seen.key_prefix = key.slice(0, 4);
  await check(alice, 'account-new-key');
  seen.key_before = await http('GET', `${config.base}/documents`, { 'x-api-key': key });
  await Promise.all([alice.waitForResponse((r) => r.url().endsWith('/revoke')), alice.getByRole('button', { name: 'Revoke key ci key' }).click()]);
  seen.key_after = await http('GET', `${config.base}/documents`, { 'x-api-key': key });

  // --- documents: create, edit, share, as two users ----------------------------------
  await alice.goto(`${config.base}/documents`);
  await check(alice, 'documents');
  const title = '<script>alert("x")</script> Plan';
  await alice.getByLabel('Title', { exact: true }).fill(title);
  await alice.getByLabel('Text', { exact: true }).fill('First draft.');
  await Promise.all([alice.waitForURL(/\/documents\/[0-9a-f-]{36}$/), alice.getByRole('button', { name: 'Create' }).click()]);
  const documentId = new URL(alice.url()).pathname.split('/').pop();
  seen.heading = await alice.locator('h1').textContent();
  await alice.getByLabel('Text', { exact: true }).fill('Second draft.');
  await Promise.all([alice.waitForResponse((r) => r.url().endsWith('/edit')), alice.getByRole('button', { name: 'Save' }).click()]);
  await alice.waitForLoadState();
  seen.body_after_edit = (await alice.locator('.body').textContent()).trim();
  await alice.getByLabel('Email of an organization member').fill(config.bob.email);
  await alice.getByLabel('Role').selectOption('viewer');
  await Promise.all([alice.waitForResponse((r) => r.url().endsWith('/share')), alice.getByRole('button', { name: 'Share', exact: true }).click()]);
  await alice.waitForLoadState();
  seen.shared_with = await alice.locator('#sharing ~ ul.items').textContent();
  await check(alice, 'document');

  const bob = await newUser();
  await signIn(bob, config.bob);
  await bob.goto(`${config.base}/documents/${documentId}`);
  seen.bob_as_viewer = { buttons: await buttons(bob), policy: await decisions(documentId) };
  await check(bob, 'document-as-viewer');

  await alice.getByLabel('Email of an organization member').fill(config.bob.email);
  await alice.getByLabel('Role').selectOption('editor');
  await Promise.all([alice.waitForResponse((r) => r.url().endsWith('/share')), alice.getByRole('button', { name: 'Share', exact: true }).click()]);
  await bob.reload();
  seen.bob_as_editor = { buttons: await buttons(bob), policy: await decisions(documentId) };

  // --- the access simulator: a permitted and a denied question -----------------------
  await alice.goto(`${config.base}/tools/access`);
  await alice.getByLabel('Action').selectOption('delete');
  await alice.getByLabel('Resource').selectOption(`Document:${documentId}`);
  await Promise.all([alice.waitForResponse((r) => r.url().endsWith('/tools/access') && r.request().method() === 'POST'), alice.getByRole('button', { name: 'Decide' }).click()]);
  seen.access_allowed = {
    decision: (await alice.locator('#decision-text').textContent()).trim(),
    policies: await alice.locator('.policy-id').allTextContents(),
  };
  await check(alice, 'access');
  await bob.goto(`${config.base}/tools/access`);
  await bob.getByLabel('Action').selectOption('delete');
  await bob.getByLabel('Resource').selectOption(`Document:${documentId}`);
  await Promise.all([bob.waitForResponse((r) => r.url().endsWith('/tools/access') && r.request().method() === 'POST'), bob.getByRole('button', { name: 'Decide' }).click()]);
  seen.access_denied = {
    decision: (await bob.locator('#decision-text').textContent()).trim(),
    policies: await bob.locator('.policy-id').allTextContents(),
    reasons: await bob.locator('#reasons li').allTextContents(),
  };
  await bob.goto(`${config.base}/tools/access?tab=custom`);
  await Promise.all([bob.waitForResponse((r) => r.url().endsWith('/tools/access') && r.request().method() === 'POST'), bob.getByRole('button', { name: 'Decide' }).click()]);
  seen.access_custom = (await bob.locator('#decision-text').textContent()).trim();
  await check(bob, 'access-custom');

  // --- delete, then the document is a 404 page ---------------------------------------
  await alice.goto(`${config.base}/documents/${documentId}`);
  await Promise.all([alice.waitForURL((u) => u.pathname === '/documents'),
    alice.getByRole('button', { name: 'Delete this document' }).click()]);
  const gone = await alice.goto(`${config.base}/documents/${documentId}`);
  seen.after_delete = gone.status();
  await check(alice, 'not-found');

  // --- the JWT inspector, without a session -------------------------------------------
  const visitor = await newUser();
  seen.jwt = {};
  for (const [name, token] of Object.entries(config.tokens)) {
    await visitor.goto(`${config.base}/tools/jwt`);
    await visitor.getByLabel('Token').fill(token);
    seen.live_decode_shown = await visitor.locator('#live-decode').isVisible();
    await Promise.all([visitor.waitForResponse((r) => r.url().endsWith('/tools/jwt') && r.request().method() === 'POST'), visitor.getByRole('button', { name: 'Inspect' }).click()]);
    seen.jwt[name] = {
      verdict: (await visitor.locator('#verdict-text').textContent()).trim(),
      reasons: await visitor.locator('#reasons li').allTextContents(),
      url: visitor.url(),
    };
    if (name === 'expired') await check(visitor, 'jwt');
  }

  // --- the second-factor step of the sign-in page ------------------------------------
  const cara = await newUser();
  await signIn(cara, config.cara);
  seen.cara_step = await cara.getByRole('heading', { name: 'Confirm it is you' }).isVisible();
  await check(cara, 'login-second-factor');
  process.stdout.write(JSON.stringify(seen));
} catch (err) {
  process.stderr.write(`pages flow failed: ${err.stack || err}\n`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
