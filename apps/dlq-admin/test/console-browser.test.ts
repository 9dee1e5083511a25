// The web console in a real Chromium (Debian's `chromium`, driven by
// playwright-core) against a real coordinator, broker and dlq-admin (issue
// 7, item 6). Topic `payments` has two subscriptions: `ledger` rejects
// payments with a negative amount (ValidationError, dead-lettered at once)
// and keeps failing those in currency XXX (TimeoutError, dead-lettered after
// 2 attempts); `audit-trail` takes everything. In the browser: the overview
// shows the queue, a filter narrows the list server-side, a record page
// shows payload, headers and ledger; the value is edited (with a diff) and
// redriven, the ledger consumer gets the edited value (and audit-trail
// nothing again), the record leaves the queue, the audit log shows the
// redrive; an alert rule created in the alert tab fires on the queue's
// depth and is deleted after a confirmation, both in the audit log; then a
// filtered purge with its confirmation, and the overview's live depth
// follows (also a purge made elsewhere, without a reload). Screenshots go
// to test-artifacts/dlq-console/.
//
// Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs
// it); without it this test fails, it never skips.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '@braid/client';
import type { Message } from '@braid/client';
import { Durability, StartPosition } from '@braid/proto';
import { freePort, runProcess, startApp, startLocalCluster, workspaceRoot } from '@braid/testkit';
import type { AppProcess, LocalCluster } from '@braid/testkit';
import type { QueuesResponse } from '../src/http/api-types.js';

const chromiumPath = '/usr/bin/chromium';
const token = 'console-e2e-token';
const operator = 'e2e-operator';
const topic = 'payments';
const artifacts = join(workspaceRoot, 'test-artifacts', 'dlq-console');

interface Payment {
  id: number;
  amount: number;
  currency: string;
}

/** ids 2, 5, 7: negative amounts (rejected); 3, 8: currency XXX (failing); the rest fine. */
const payments: Payment[] = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => ({
  id,
  amount: [2, 5, 7].includes(id) ? -10 * id : 10 * id,
  currency: [3, 8].includes(id) ? 'XXX' : 'EUR',
}));

let cluster: LocalCluster | undefined;
let dlqAdmin: AppProcess | undefined;
let admin: Admin | undefined;
let producer: Producer | undefined;
let browser: Browser | undefined;
let openPage: Page | undefined;
let consoleUrl: string;
let workDir: string | undefined;
const consumers: Consumer[] = [];
const loops: Promise<void>[] = [];
/** Values `ledger` acknowledged, as received. */
const ledgerProcessed: string[] = [];
/** ids `audit-trail` received. */
const auditTrailSeen: number[] = [];
let shot = 0;

/** The browser page (opened in beforeAll). */
function page(): Page {
  if (openPage === undefined) throw new Error('the browser page is not open');
  return openPage;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function screenshot(name: string): Promise<void> {
  shot += 1;
  await page().screenshot({ path: join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function waitFor<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(200);
    last = await read();
  }
  return last;
}

async function ledgerDepth(): Promise<number> {
  const response = await fetch(new URL('api/queues?refresh=true', consoleUrl));
  const { queues } = (await response.json()) as QueuesResponse;
  return queues.find((q) => q.topic === topic && q.subscription === 'ledger')?.depth ?? 0;
}

function consume(subscription: string, handle: (message: Message) => void): void {
  if (cluster === undefined) throw new Error('no cluster');
  const consumer = new Consumer({ brokers: cluster.broker.address, topic, subscription });
  consumers.push(consumer);
  loops.push(
    (async () => {
      for await (const message of consumer) handle(message);
    })(),
  );
}

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: the console's browser test needs Debian's Chromium. Install it with: apt-get install -y chromium`);
  }
  mkdirSync(artifacts, { recursive: true });
  workDir = mkdtempSync(join(tmpdir(), 'braid-console-e2e-'));
  // dlq-admin runs from source here: build the console's files as `nx build` does.
  const built = await runProcess(process.execPath, [join(workspaceRoot, 'apps/dlq-admin/bundle-assets.mjs'), workDir], { cwd: workspaceRoot, timeoutMs: 60_000 });
  expect(built.code, built.stdout + built.stderr).toBe(0);

  cluster = await startLocalCluster();
  const httpPort = await freePort();
  dlqAdmin = await startApp('dlq-admin', {
    args: [
      '--data-dir', join(workDir, 'dlq-admin'),
      '--broker', cluster.broker.address,
      '--poll-interval-ms', '300',
      '--alert-interval-ms', '300',
      '--http-port', String(httpPort),
      '--console-dir', join(workDir, 'console'),
    ],
    env: { BRAID_ADMIN_TOKEN: token },
  });
  consoleUrl = `http://127.0.0.1:${httpPort}/`;
  expect(dlqAdmin.logs).toContain(`web console at ${consoleUrl}`);

  admin = new Admin({ brokers: cluster.broker.address });
  producer = new Producer({ brokers: cluster.broker.address });
  await admin.createTopic(topic, { partitions: 2, durability: Durability.DURABILITY_WRITE });
  await admin.createSubscription(topic, 'ledger', {
    startPosition: StartPosition.START_POSITION_EARLIEST,
    retryPolicy: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
  });
  await admin.createSubscription(topic, 'audit-trail', { startPosition: StartPosition.START_POSITION_EARLIEST });
  consume('ledger', (message) => {
    const payment = JSON.parse(message.value.toString()) as Payment;
    if (payment.amount < 0) message.reject('negative amount', { errorClass: 'ValidationError' });
    else if (payment.currency === 'XXX') message.nack({ delayMs: 0, reason: 'fx rate service timed out', errorClass: 'TimeoutError' });
    else {
      ledgerProcessed.push(message.value.toString());
      message.ack();
    }
  });
  consume('audit-trail', (message) => {
    auditTrailSeen.push((JSON.parse(message.value.toString()) as Payment).id);
    message.ack();
  });
  await producer.send(
    topic,
    payments.map((payment) => ({ key: `customer-${payment.id % 3}`, value: JSON.stringify(payment), headers: { source: 'checkout', 'content-type': 'application/json' } })),
  );
  await waitFor('the ledger queue to fill', ledgerDepth, (depth) => depth === 5);
  await waitFor('audit-trail to see every payment', () => auditTrailSeen.length, (n) => n === payments.length);

  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  openPage = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  openPage.setDefaultTimeout(20_000);
}, 180_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && openPage !== undefined) {
    await openPage.screenshot({ path: join(artifacts, `failed-${context.task.name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
  }
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(consumers.map((consumer) => consumer.close({ timeoutMs: 2_000 })));
  await Promise.allSettled(loops);
  await producer?.close();
  admin?.close();
  await dlqAdmin?.kill9();
  await cluster?.destroy();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe('dead-letter console in Chromium', () => {
  it('loads the overview with the live depth of the ledger queue', async () => {
    await page().goto(consoleUrl);
    const row = page().locator('[data-testid="queue-row"][data-subscription="ledger"]');
    await row.waitFor();
    const firstLoadMs = await page().evaluate(() => performance.getEntriesByName('braid:overview-rendered')[0]?.startTime ?? -1);
    expect(firstLoadMs).toBeGreaterThan(0);
    await page().reload();
    await row.waitFor();
    const reloadMs = await page().evaluate(() => performance.getEntriesByName('braid:overview-rendered')[0]?.startTime ?? -1);
    console.log(`console first load time in Chromium: ${firstLoadMs.toFixed(0)} ms (navigation start to overview rendered; ${reloadMs.toFixed(0)} ms on reload)`);
    await expect.poll(() => row.getByTestId('queue-depth').textContent(), { timeout: 15_000 }).toBe('5');
    await expect.poll(() => page().getByTestId('live-status').textContent(), { timeout: 15_000 }).toContain('Live');
    expect(await page().locator('[data-testid="queue-row"][data-subscription="audit-trail"]').count()).toBe(0);
    await screenshot('overview');
  });

  it('filters the records server-side by error class', async () => {
    await page().getByRole('link', { name: 'ledger', exact: true }).click();
    await expect.poll(() => page().getByTestId('total-matching').textContent(), { timeout: 15_000 }).toBe('5 records in the queue');
    await page().getByLabel('Error class').fill('ValidationError');
    await page().getByRole('button', { name: 'Apply filter' }).click();
    await expect.poll(() => page().getByTestId('total-matching').textContent(), { timeout: 15_000 }).toBe('3 records match the filter');
    const rows = page().getByTestId('record-row');
    expect(await rows.count()).toBe(3);
    const previews = await rows.locator('td.preview').allTextContents();
    expect(previews.map((text) => (JSON.parse(text) as Payment).id).sort()).toEqual([2, 5, 7]);
    expect(page().url()).toContain('errorClass=ValidationError');
    await screenshot('filtered');
  });

  it('opens a record: pretty JSON payload, headers and the attempt ledger', async () => {
    await page().getByTestId('record-row').filter({ hasText: '"id":5' }).getByTestId('record-link').click();
    const payload = page().getByTestId('payload');
    await payload.waitFor();
    expect(await payload.getAttribute('data-kind')).toBe('json');
    expect(await payload.textContent()).toBe(JSON.stringify({ id: 5, amount: -50, currency: 'EUR' }, null, 2));
    expect(await page().getByTestId('headers').textContent()).toContain('checkout');
    expect(await page().getByTestId('record-key').textContent()).toBe('customer-2');
    const attempts = page().getByTestId('attempt');
    expect(await attempts.count()).toBe(1);
    expect(await attempts.first().textContent()).toMatch(/attempt 1.*reject.*ValidationError.*negative amount/);
    await screenshot('record');
  });

  it('edits the value with a diff and redrives it: the ledger consumer gets the edit, the record leaves the queue', async () => {
    await page().getByTestId('token-input').fill(token);
    await page().getByTestId('actor-input').fill(operator);
    await page().getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page().getByTestId('token-status').textContent(), { timeout: 15_000 }).toBe('token accepted');

    await page().getByRole('button', { name: 'Edit and redrive…' }).click();
    const editor = page().getByTestId('new-value');
    const original = await editor.inputValue();
    await editor.fill(original.replace('"amount": -50', '"amount": 50'));
    const diff = page().getByTestId('diff');
    expect(await diff.locator('[data-diff="del"]').allTextContents()).toEqual(['-   "amount": -50,\n']);
    expect(await diff.locator('[data-diff="add"]').allTextContents()).toEqual(['+   "amount": 50,\n']);
    await screenshot('edit-diff');

    await page().getByTestId('redrive-edited').click();
    await expect.poll(() => page().getByTestId('record-gone').textContent(), { timeout: 15_000 }).toContain('Redriven with the edited value');
    await screenshot('redriven');

    // The original was compact JSON, so the edit goes out compact too.
    await waitFor('ledger to process the edited payment', () => ledgerProcessed, (values) => values.includes('{"id":5,"amount":50,"currency":"EUR"}'));
    await sleep(500);
    expect(auditTrailSeen.filter((id) => id === 5)).toEqual([5]);
    expect(await ledgerDepth()).toBe(4);

    await page().goBack();
    await expect.poll(() => page().getByTestId('total-matching').textContent(), { timeout: 15_000 }).toBe('2 records match the filter');
    const previews = await page().getByTestId('record-row').locator('td.preview').allTextContents();
    expect(previews.map((text) => (JSON.parse(text) as Payment).id).sort()).toEqual([2, 7]);
  });

  it('shows the redrive in the audit log', async () => {
    await page().getByRole('link', { name: 'Audit log' }).click();
    const redrive = page().locator('[data-testid="audit-row"][data-action="redrive"][data-dry-run="false"]');
    await redrive.first().waitFor();
    expect(await redrive.count()).toBe(1);
    const cells = await redrive.locator('td').allTextContents();
    expect(cells[1]).toBe(operator);
    expect(cells[3]).toBe(`${topic} / ledger`);
    expect(cells[4]).toMatch(/refs \d+\/\d+, edited value/);
    expect(cells[5]).toBe('1');
    expect(cells[7]).toBe('ok');
    await screenshot('audit');
  });

  it('creates an alert rule for the ledger queue, sees it firing, deletes it after a confirmation, and sees both in the audit log', async () => {
    await page().getByRole('link', { name: 'Alert rules' }).click();
    const form = page().getByTestId('alert-rule-form');
    await form.getByTestId('alert-queue').waitFor();
    await form.getByTestId('alert-queue').selectOption({ label: `${topic} / ledger` });
    await form.getByTestId('alert-metric').selectOption('DEPTH');
    await form.getByTestId('alert-threshold').fill('3');
    await form.getByTestId('alert-clear-threshold').fill('1');
    await form.getByTestId('alert-description').fill('ledger backlog');
    await form.getByTestId('alert-create').click();
    await expect.poll(() => form.getByTestId('alert-form-result').textContent(), { timeout: 15_000 }).toMatch(/^Created rule [0-9a-f]{8}: depth > 3 on payments \/ ledger\.$/);

    // The queue holds 4 records (> 3): a check of the monitor (every 300 ms here) fires the rule, and the tab's refresh shows it.
    const row = page().getByTestId('alert-rule').filter({ hasText: 'ledger backlog' });
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 15_000 }).toBe('FIRING');
    expect(await row.getByTestId('alert-status').textContent()).toBe('firing');
    expect(await row.locator('td').nth(1).textContent()).toBe('depth > 3');
    await screenshot('alert-firing');

    const id = (await row.getAttribute('data-rule-id')) ?? '';
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    await row.getByTestId('alert-delete').click();
    const confirm = page().getByTestId('alert-delete-confirm');
    await expect.poll(() => confirm.textContent(), { timeout: 15_000 }).toContain(`Delete rule ${id}, depth > 3 on ${topic} / ledger? It is firing`);
    await screenshot('alert-delete-confirm');
    await confirm.getByTestId('alert-delete-yes').click();
    await expect.poll(() => page().getByTestId('alert-delete-result').textContent(), { timeout: 15_000 }).toContain(`Deleted rule ${id}`);
    await expect.poll(() => page().getByTestId('alert-rule').count(), { timeout: 15_000 }).toBe(0);

    await page().getByRole('link', { name: 'Audit log' }).click();
    for (const action of ['create-alert-rule', 'delete-alert-rule']) {
      const entry = page().locator(`[data-testid="audit-row"][data-action="${action}"]`);
      await entry.first().waitFor();
      expect(await entry.count()).toBe(1);
      const cells = await entry.locator('td').allTextContents();
      expect(cells[1]).toBe(operator);
      expect(cells[3]).toBe(`${topic} / ledger`);
      expect(cells[4]).toBe(`rule ${id}: depth > 3 (resolves at <= 1)`);
      expect(cells[7]).toBe('ok');
    }
    await screenshot('alert-audit');
  });

  it('purges a filtered selection after a confirmation, and the live overview follows', async () => {
    await page().goto(`${consoleUrl}#/queues/${topic}/ledger?errorClass=TimeoutError`);
    await expect.poll(() => page().getByTestId('total-matching').textContent(), { timeout: 15_000 }).toBe('2 records match the filter');
    await page().getByRole('button', { name: 'Purge…' }).click();
    const confirm = page().getByTestId('confirm');
    await expect.poll(() => confirm.textContent(), { timeout: 15_000 }).toContain('Permanently remove 2 records');
    await screenshot('purge-confirm');
    await confirm.getByRole('button', { name: 'Purge 2' }).click();
    await expect.poll(() => page().getByTestId('bulk-result').textContent(), { timeout: 15_000 }).toBe('Purged 2 records.');
    await expect.poll(() => page().getByTestId('total-matching').textContent(), { timeout: 15_000 }).toBe('0 records match the filter');

    await page().getByRole('link', { name: 'Queues' }).first().click();
    const depth = page().locator('[data-testid="queue-row"][data-subscription="ledger"]').getByTestId('queue-depth');
    await expect.poll(() => depth.textContent(), { timeout: 15_000 }).toBe('2');
    await screenshot('overview-after');
    expect(ledgerProcessed.filter((value) => value.includes('XXX'))).toEqual([]);

    // A change made elsewhere (here: the HTTP API) reaches the open page through the live stream.
    const purged = await fetch(new URL(`api/queues/${topic}/ledger/purge`, consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ selection: { all: true }, actor: operator }),
    });
    expect(await purged.json()).toMatchObject({ purged: 2 });
    await expect.poll(() => depth.textContent(), { timeout: 15_000 }).toBe('0');
  });
});
