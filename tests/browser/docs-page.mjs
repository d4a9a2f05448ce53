// Drives the socketspec docs page in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) for tests/tests/docs_browser.rs.
//
//   node docs-page.mjs CONFIG_JSON
//
// CONFIG_JSON: {"pageUrl", "fileUrl", "wsUrl", "resumeWsUrl", "events": [...],
//               "systemEvents": n, "errorCodes": n, "screenshotDir"}
//
// `resumeWsUrl` reaches a server with resumption on (and a ticker pushing
// `tick` to room `chat:ticker`) through a proxy the Rust test cuts: this
// program prints `@@cut` and waits for the line `cut` on stdin.
//
// Prints one line per check ("ok <what>") and a final JSON line
// {"ok": true, ...}; on failure prints "FAIL <why>" and exits 1.
import { chromium } from 'playwright-core';
import path from 'node:path';
import readline from 'node:readline';

const config = JSON.parse(process.argv[2] || '{}');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 15000;
const results = {};

function check(cond, what) {
  if (!cond) throw new Error(what);
  console.log('ok ' + what);
}

// Lines from the Rust test on stdin, one at a time.
const stdinLines = readline.createInterface({ input: process.stdin });
const waitingForLine = [];
const bufferedLines = [];
stdinLines.on('line', (line) => {
  const waiter = waitingForLine.shift();
  if (waiter) waiter(line.trim());
  else bufferedLines.push(line.trim());
});
function nextLine() {
  const line = bufferedLines.shift();
  return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waitingForLine.push(resolve));
}

function attachGuards(page, label) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${label}: console error: ${m.text()}`);
  });
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith('file:') && !url.startsWith('data:') && !url.startsWith(config.httpBase || '\u0000')) {
      problems.push(`${label}: unexpected request to ${url}`);
    }
  });
  return problems;
}

// JSON with sorted keys, for comparisons that ignore key order.
function canonical(value) {
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (value && typeof value === 'object') {
    return '{' + Object.keys(value).sort().map((k) => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}

// The whole frame of a log entry (its body shows only the payload).
async function jsonOf(locator) {
  return JSON.parse(await locator.getAttribute('data-raw'));
}

async function openTry(page, event) {
  const card = page.locator(`article.card[data-event="${event}"]`);
  const details = card.locator('details.try');
  if (!(await details.evaluate((d) => d.open))) {
    await card.locator('details.try > summary').click();
  }
  return card;
}

async function selectConn(page, no) {
  await page.locator(`.conn-tab[data-conn="${no}"]`).click();
  await page.waitForSelector(`#conn-status[data-conn="${no}"]`, { timeout: TIMEOUT });
}

async function connect(page, no) {
  await page.locator('#conn-connect').click();
  await page.waitForSelector(`#conn-status[data-conn="${no}"][data-state="connected"]`, { timeout: TIMEOUT });
}

async function sendFrom(page, event) {
  const card = await openTry(page, event);
  await card.locator('button.send').click();
  return card;
}

// Sends `event` through its Try it editor with `payload` instead of the example.
async function sendPayload(page, event, payload) {
  const card = await openTry(page, event);
  await card.locator('textarea.editor').fill(JSON.stringify(payload));
  await card.locator('button.send').click();
  return card;
}

// The seq of every entry of connection `no` that shows one, replies included.
async function seqsOf(page, no) {
  return page.locator(`#log li[data-conn="${no}"][data-seq]`).evaluateAll((els) =>
    els.map((e) => ({ seq: Number(e.getAttribute('data-seq')), badge: e.querySelector('.entry-head .seq')?.textContent || '' })));
}

// Waits until connection `no` has received more than `count` tick broadcasts.
async function ticksPast(page, no, count) {
  await page.waitForFunction(
    ([no, count]) => document.querySelectorAll(`#log > li[data-conn="${no}"][data-event="tick"]`).length > count,
    [no, count],
    { timeout: TIMEOUT },
  );
}

async function servedPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  const problems = attachGuards(page, 'served page');
  await page.goto(config.pageUrl, { waitUntil: 'load' });
  check((await page.title()).includes('Chat'), 'the served page has the spec title');
  const url = await page.locator('#conn-url').inputValue();
  check(url === config.wsUrl, `the console defaults to the serving host's WebSocket (${url})`);

  // Connection #1, echo through "Try it".
  await connect(page, 1);
  check(true, 'connection #1 got __connect__');
  await sendFrom(page, 'echo');
  const echoReply = page.locator('#log > li.out[data-conn="1"][data-event="echo"] .replies > li[data-event="echo_reply"]').first();
  await echoReply.waitFor({ timeout: TIMEOUT });
  const echoed = await jsonOf(echoReply);
  const sentExample = JSON.parse(await page.locator('article.card[data-event="echo"] textarea.editor').inputValue());
  check(canonical(echoed.payload) === canonical(sentExample), 'echo_reply carries the example payload, under its request');
  check(typeof echoed.id === 'string' && echoed.id.startsWith('c1-'), 'the reply carries the request id');
  await page.locator('article.card[data-event="echo"] .exchanges li[data-event="echo_reply"]').first().waitFor({ timeout: TIMEOUT });
  check(true, 'the reply also shows under the Try it editor');

  // Keyboard: edit the payload and send with Ctrl+Enter.
  const editor = page.locator('article.card[data-event="echo"] textarea.editor');
  await editor.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('{"seq": 2, "data": "typed"}');
  await page.keyboard.press('Control+Enter');
  const typedReply = page.locator('#log li[data-event="echo_reply"] pre', { hasText: '"typed"' }).first();
  await typedReply.waitFor({ timeout: TIMEOUT });
  check(true, 'Ctrl+Enter in the editor sends the edited payload');

  // A validation error shows as __error__ under its request.
  await editor.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('{"seq": "not a number"}');
  await page.keyboard.press('Control+Enter');
  await page.locator('#log > li.out[data-event="echo"] .replies > li.err[data-event="__error__"]').first().waitFor({ timeout: TIMEOUT });
  check(true, 'a VALIDATION_ERROR envelope shows under the request that caused it');
  await page.locator('article.card[data-event="echo"] button.reset').click();

  // Connection #2 in the same page; both join the example room.
  await page.locator('#conn-new').click();
  await page.waitForSelector('#conn-status[data-conn="2"]', { timeout: TIMEOUT });
  await connect(page, 2);
  check(true, 'connection #2 got __connect__');
  await sendFrom(page, 'join_room');
  await page.locator('#log > li.out[data-conn="2"][data-event="join_room"] .replies > li[data-event="room_joined"]').first().waitFor({ timeout: TIMEOUT });
  await selectConn(page, 1);
  await sendFrom(page, 'join_room');
  await page.locator('#log > li.out[data-conn="1"][data-event="join_room"] .replies > li[data-event="room_joined"]').first().waitFor({ timeout: TIMEOUT });
  check(true, 'both connections joined the example room');
  await page.locator('#log > li.broadcast[data-conn="2"][data-event="user_joined"]').first().waitFor({ timeout: TIMEOUT });
  check(true, 'connection #2 saw user_joined when #1 joined');

  // #1 sends a message; #2 receives the broadcast.
  await sendFrom(page, 'send_message');
  const broadcast = page.locator('#log > li.broadcast[data-conn="2"][data-event="new_message"]').first();
  await broadcast.waitFor({ timeout: TIMEOUT });
  const got = await jsonOf(broadcast);
  const sent = JSON.parse(await page.locator('article.card[data-event="send_message"] textarea.editor').inputValue());
  check(got.payload.text === sent.text && got.payload.room === sent.room && !('id' in got), 'connection #2 received the new_message broadcast (no id)');
  await page.locator('#log > li.out[data-conn="1"][data-event="send_message"] .replies > li[data-event="message_ack"]').first().waitFor({ timeout: TIMEOUT });
  check(true, 'connection #1 got message_ack under its request');

  // The log filter.
  await page.locator('#log-filter').fill('new_message');
  const visible = await page.locator('#log > li:visible').count();
  const matching = await page.locator('#log > li:visible', { hasText: 'new_message' }).count();
  check(visible > 0 && visible === matching, 'the log filter keeps only matching entries');
  await page.locator('#log-filter').fill('');

  await page.locator('article.card[data-event="send_message"]').scrollIntoViewIfNeeded();
  await page.evaluate(() => document.querySelector('article.card[data-event="send_message"]').scrollIntoView({ block: 'start' }));
  await page.waitForTimeout(150);
  const shot = path.join(config.screenshotDir, 'docs-page.png');
  await page.screenshot({ path: shot });
  results.screenshot = shot;

  // Narrow window: no horizontal scrolling, the console still reachable.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `no horizontal overflow at 390px (overflow ${overflow}px)`);
  check(await page.locator('#conn-connect').isVisible(), 'the console is visible on a narrow window');
  await page.evaluate(() => window.scrollTo(0, 0));
  const narrow = path.join(config.screenshotDir, 'docs-page-narrow.png');
  await page.screenshot({ path: narrow });
  results.narrowScreenshot = narrow;

  check(problems.length === 0, 'no page errors, console errors or outside requests: ' + problems.join('; '));
  await context.close();
}

async function filePage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = attachGuards(page, 'file page');
  await page.goto(config.fileUrl + '?ws=' + encodeURIComponent(config.wsUrl), { waitUntil: 'load' });
  const cards = await page.locator('article.card').evaluateAll((els) => els.map((e) => e.getAttribute('data-event')));
  check(canonical([...cards].sort()) === canonical([...config.events].sort()), `file:// renders one card per event (${cards.join(', ')})`);
  for (const event of config.events) {
    const card = page.locator(`article.card[data-event="${event}"]`);
    check(await card.isVisible(), `card ${event} is visible`);
    JSON.parse(await card.locator('textarea.editor').inputValue());
  }
  check(true, 'every example payload is valid JSON');
  check((await page.locator('[data-system-event]').count()) === config.systemEvents, 'the system events table is complete');
  check((await page.locator('[data-error-code]').count()) === config.errorCodes, 'the error codes table is complete');
  check(await page.locator('#downloads').isHidden(), 'no spec.json links on a file page');

  // The static file works against a running server.
  check((await page.locator('#conn-url').inputValue()) === config.wsUrl, 'the ?ws= parameter presets the URL');
  await connect(page, 1);
  await sendFrom(page, 'whoami');
  const identity = page.locator('#log > li.out[data-event="whoami"] .replies > li[data-event="identity"]').first();
  await identity.waitFor({ timeout: TIMEOUT });
  const who = await jsonOf(identity);
  check(Array.isArray(who.payload.rooms) && who.payload.rooms.includes('lobby'), 'from file://, whoami answers through the console');
  const fileShot = path.join(config.screenshotDir, 'docs-page-file.png');
  await page.screenshot({ path: fileShot });
  results.fileScreenshot = fileShot;
  check(problems.length === 0, 'no page errors, console errors or outside requests: ' + problems.join('; '));
  await context.close();
}

// A server with resumption on, behind a proxy the Rust test cuts: the
// console shows each frame's seq, resumes by itself after the cut (same
// connection id, `resumed`), and the log holds every seq exactly once.
async function resumePage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = attachGuards(page, 'resume page');
  await page.goto(config.fileUrl + '?ws=' + encodeURIComponent(config.resumeWsUrl), { waitUntil: 'load' });
  await connect(page, 1);
  const connectEntry = await jsonOf(page.locator('#log > li[data-conn="1"][data-event="__connect__"]').first());
  check(typeof connectEntry.payload.resume_token === 'string' && connectEntry.payload.resumed === false,
    'with resumption on, __connect__ carries resume_token and resumed: false');
  const status = page.locator('#conn-status');
  const firstId = await status.getAttribute('data-connection-id');

  await sendPayload(page, 'join_room', { room: 'ticker' });
  await page.locator('#log > li.out[data-conn="1"][data-event="join_room"] .replies > li[data-event="room_joined"]').first().waitFor({ timeout: TIMEOUT });
  await ticksPast(page, 1, 3);
  const before = await seqsOf(page, 1);
  check(before.length >= 4 && before.every((e) => e.badge === 'seq ' + e.seq),
    `every frame after __connect__ shows its seq (${before.length} frames)`);
  check(!(await page.locator('#log li[data-conn="1"][data-event="__connect__"][data-seq]').count()), '__connect__ has no seq');

  // A reply still in flight when the connection is cut.
  await sendPayload(page, 'slow_echo', { seq: 41, delay_ms: 1500 });
  const ticksBefore = await page.locator('#log > li[data-conn="1"][data-event="tick"]').count();
  console.log('@@cut');
  const answer = await nextLine();
  if (answer !== 'cut') throw new Error(`the Rust test answered ${answer}, not cut`);
  await page.locator('#log > li.note[data-conn="1"]', { hasText: 'Lost without a close frame: resuming' }).first().waitFor({ timeout: TIMEOUT });
  check(true, 'the console notices the drop without a close frame and resumes by itself');
  await page.waitForSelector('#conn-status[data-conn="1"][data-state="connected"][data-resume="resumed"]', { timeout: TIMEOUT });
  check((await status.getAttribute('data-connection-id')) === firstId, 'the connection resumed with the same connection_id');
  check((await status.textContent()).includes('resumed'), 'the status line says resumed');
  const resumeNote = (await page.locator('#log > li.note[data-conn="1"]', { hasText: 'resuming after seq' }).first().textContent()) || '';
  check(/resuming after seq \d+/.test(resumeNote), 'the resume attempt names the last seq');

  const echoed = page.locator('#log > li.out[data-conn="1"][data-event="slow_echo"] .replies > li[data-event="echo_reply"]').first();
  await echoed.waitFor({ timeout: TIMEOUT });
  check((await jsonOf(echoed)).payload.seq === 41, 'the reply in flight across the cut arrives under its request');
  await ticksPast(page, 1, ticksBefore + 3);
  const all = (await seqsOf(page, 1)).map((e) => e.seq).sort((a, b) => a - b);
  const expected = Array.from({ length: all.length }, (_, i) => i + 1);
  check(JSON.stringify(all) === JSON.stringify(expected),
    `every seq from 1 to ${all[all.length - 1]} is in the log exactly once across the resume`);
  const ticks = (await page.locator('#log > li[data-conn="1"][data-event="tick"]').evaluateAll((els) =>
    els.map((e) => JSON.parse(e.getAttribute('data-raw')).payload.seq))).sort((a, b) => a - b);
  const consecutive = ticks.every((n, i) => i === 0 || n === ticks[i - 1] + 1);
  check(ticks.length > ticksBefore && consecutive, `no tick lost or shown twice across the resume (${ticks[0]}..${ticks[ticks.length - 1]})`);

  const shot = path.join(config.screenshotDir, 'docs-page-resume.png');
  await page.screenshot({ path: shot });
  results.resumeScreenshot = shot;

  // Disconnect sends a close frame: the session ends, nothing resumes.
  const opened = () => page.locator('#log > li.note[data-conn="1"]', { hasText: 'WebSocket open' }).count();
  const openedBefore = await opened();
  await page.locator('#conn-disconnect').click();
  await page.waitForSelector('#conn-status[data-conn="1"][data-state="closed"]', { timeout: TIMEOUT });
  await page.waitForTimeout(800);
  check((await status.getAttribute('data-state')) === 'closed' && (await opened()) === openedBefore, 'no resume after Disconnect');
  check(problems.length === 0, 'no page errors, console errors or outside requests: ' + problems.join('; '));
  await context.close();
}

let browser;
try {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await servedPage(browser);
  await filePage(browser);
  await resumePage(browser);
  console.log(JSON.stringify({ ok: true, ...results }));
} catch (e) {
  console.log('FAIL ' + (e && e.stack ? e.stack : e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  stdinLines.close();
}
