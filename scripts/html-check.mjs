#!/usr/bin/env node
/**
 * Opens an HTML report in headless Chromium and reports what a browser sees: console errors,
 * uncaught exceptions, CSP violations, any network request other than the file itself, whether
 * the filters and copy buttons came alive; and saves a screenshot.
 *
 *   node scripts/html-check.mjs reports/supaudit.html [screenshot.png]
 *
 * Needs Chromium (Debian: `apt-get install chromium`; or set CHROMIUM=/path/to/chrome). Talks
 * to it over the DevTools protocol with the `ws` package. Not part of `npm test`.
 * Exit status: 0 clean, 1 errors or requests found, 2 could not run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const [input, screenshot = 'html-screenshot.png'] = process.argv.slice(2);
if (!input || !existsSync(input)) {
  console.error('usage: node scripts/html-check.mjs <report.html> [screenshot.png]');
  process.exit(2);
}
const binary = process.env.CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
if (!binary) {
  console.error('html-check: no Chromium found (apt-get install chromium, or set CHROMIUM)');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'supaudit-chromium-'));
const browser = spawn(binary, [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
  '--disable-extensions', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--remote-debugging-port=0', `--user-data-dir=${profile}`, '--window-size=1280,900', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'] });

function cleanup() {
  browser.kill('SIGTERM');
  setTimeout(() => rmSync(profile, { recursive: true, force: true }), 500).unref();
}

const endpoint = await new Promise((ok, fail) => {
  let buffer = '';
  const timer = setTimeout(() => fail(new Error('Chromium did not start within 30 s')), 30_000);
  browser.stderr.on('data', (chunk) => {
    buffer += chunk;
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(buffer);
    if (m) {
      clearTimeout(timer);
      ok(m[1]);
    }
  });
  browser.on('exit', (code) => fail(new Error(`Chromium exited (${code}): ${buffer.slice(-500)}`)));
}).catch((error) => {
  console.error(`html-check: ${error.message}`);
  cleanup();
  process.exit(2);
});

const socket = new WebSocket(endpoint);
await new Promise((ok, fail) => socket.once('open', ok).once('error', fail));
let nextId = 1;
const pending = new Map();
const listeners = [];
socket.on('message', (data) => {
  const msg = JSON.parse(String(data));
  if (msg.id && pending.has(msg.id)) {
    const { ok, fail } = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) fail(new Error(msg.error.message));
    else ok(msg.result);
  } else if (msg.method) {
    for (const l of listeners) l(msg);
  }
});
const send = (method, params = {}, sessionId) =>
  new Promise((ok, fail) => {
    const id = nextId++;
    pending.set(id, { ok, fail });
    socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
  });

const url = pathToFileURL(resolve(input)).href;
const problems = [];
const requests = [];
const console_ = [];
listeners.push((msg) => {
  if (msg.method === 'Runtime.consoleAPICalled') {
    const text = msg.params.args.map((a) => a.value ?? a.description ?? '').join(' ');
    console_.push(`${msg.params.type}: ${text}`);
    if (msg.params.type === 'error' || msg.params.type === 'assert') problems.push(`console.${msg.params.type}: ${text}`);
  }
  if (msg.method === 'Runtime.exceptionThrown') problems.push(`exception: ${msg.params.exceptionDetails.exception?.description ?? msg.params.exceptionDetails.text}`);
  if (msg.method === 'Log.entryAdded' && ['error', 'warning'].includes(msg.params.entry.level)) problems.push(`${msg.params.entry.source} ${msg.params.entry.level}: ${msg.params.entry.text}`);
  if (msg.method === 'Page.javascriptDialogOpening') {
    problems.push(`dialog opened (injected script ran?): ${msg.params.message}`);
    void send('Page.handleJavaScriptDialog', { accept: true }, msg.sessionId);
  }
  if (msg.method === 'Network.requestWillBeSent' && msg.params.request.url !== url) requests.push(msg.params.request.url);
});

const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await send(`${domain}.enable`, {}, sessionId);
await send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
const loaded = new Promise((ok) => listeners.push((msg) => msg.method === 'Page.loadEventFired' && ok()));
await send('Page.navigate', { url }, sessionId);
await Promise.race([loaded, new Promise((r) => setTimeout(r, 15_000))]);

const evaluate = async (expression) => (await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)).result.value;
// Exercise the page: the filters and copy buttons appear, and unchecking a level hides its findings.
const state = await evaluate(`(() => {
  const total = document.querySelectorAll('.finding').length;
  const filtersShown = !document.getElementById('filters').hidden;
  const copyButtons = [...document.querySelectorAll('.fix button')].filter((b) => !b.hidden).length;
  const box = document.querySelector('input[data-filter-level][value="info"]');
  box.checked = false; box.dispatchEvent(new Event('change'));
  const afterInfoOff = document.querySelectorAll('.finding:not([hidden])').length;
  box.checked = true; box.dispatchEvent(new Event('change'));
  const select = document.getElementById('filter-role');
  select.value = 'anon'; select.dispatchEvent(new Event('change'));
  const anonOnly = document.querySelectorAll('.finding:not([hidden])').length;
  const rolesShown = [...document.querySelectorAll('.role')].filter((r) => !r.hidden).map((r) => r.dataset.role);
  select.value = ''; select.dispatchEvent(new Event('change'));
  return { total, filtersShown, copyButtons, afterInfoOff, anonOnly, rolesShown, charts: document.querySelectorAll('.role svg').length,
           info: document.querySelectorAll('.finding[data-level="info"]').length };
})()`);
await new Promise((r) => setTimeout(r, 300));

// Screenshot of the top of the page: header, summary, filters and the blast-radius charts.
const metrics = await send('Page.getLayoutMetrics', {}, sessionId);
const height = Math.min(2400, Math.ceil(metrics.cssContentSize?.height ?? 900));
const shot = await send('Page.captureScreenshot', { format: 'png', clip: { x: 0, y: 0, width: 1280, height, scale: 1 }, captureBeyondViewport: true }, sessionId);
writeFileSync(screenshot, Buffer.from(shot.data, 'base64'));

socket.close();
cleanup();

console.log(`html-check: ${url}`);
console.log(`  findings ${state.total}, charts ${state.charts}, filters shown ${state.filtersShown}, copy buttons ${state.copyButtons}`);
console.log(`  info unchecked → ${state.afterInfoOff} visible (expected ${state.total - state.info}); role anon → ${state.anonOnly} findings, role charts shown: ${state.rolesShown.join(', ')}`);
console.log(`  console messages: ${console_.length}, network requests besides the file: ${requests.length}`);
console.log(`  screenshot: ${screenshot} (1280×${height})`);
const broken = state.afterInfoOff !== state.total - state.info || !state.filtersShown;
for (const p of problems) console.log(`  problem: ${p}`);
for (const r of requests) console.log(`  request: ${r}`);
if (broken) console.log('  problem: filters did not behave as expected');
console.log(problems.length === 0 && requests.length === 0 && !broken ? '  OK: no console errors, no requests' : '  FAILED');
process.exit(problems.length === 0 && requests.length === 0 && !broken ? 0 : 1);
