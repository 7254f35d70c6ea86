// A real browser: headless Chromium (Debian's, driven by playwright-core) opens the
// authorization URL, fills in the sign-in form, clicks "Allow" on the consent page, and is
// sent back to a callback served here. No JavaScript runs in the pages themselves.
//
// Usage: node browser_flow.mjs AUTHORIZE_URL EMAIL PASSWORD CALLBACK_PORT
// Prints {"callback": "<the URL the browser came back to>", "consent_shown": true|false}.

import http from 'node:http';
import { chromium } from 'playwright-core';

const [authorizeUrl, email, password, port] = process.argv.slice(2);

// The client's redirect URI: answers the browser and remembers where it came back to.
let resolveCallback;
const callbackSeen = new Promise((resolve) => { resolveCallback = resolve; });
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('signed in');
  if (req.url.startsWith('/callback')) resolveCallback(`http://127.0.0.1:${port}${req.url}`);
});
await new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let exitCode = 0;
try {
  const page = await browser.newPage({ javaScriptEnabled: false });
  await page.goto(authorizeUrl);
  if (!new URL(page.url()).pathname.startsWith('/login')) {
    throw new Error(`expected the sign-in page, got ${page.url()}`);
  }
  // Labelled inputs: find them the way a screen reader would.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  let consentShown = false;
  if (new URL(page.url()).pathname.startsWith('/consent')) {
    consentShown = true;
    await Promise.all([
      page.waitForURL((url) => url.port === String(port)),
      page.getByRole('button', { name: 'Allow' }).click(),
    ]);
  }
  const callback = await Promise.race([
    callbackSeen,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no callback')), 10000)),
  ]);
  process.stdout.write(JSON.stringify({ callback, consent_shown: consentShown }));
} catch (err) {
  process.stderr.write(`browser flow failed: ${err.stack || err}\n`);
  exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
process.exit(exitCode);
