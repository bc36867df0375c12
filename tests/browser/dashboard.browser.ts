/**
 * The dashboard in a real browser (`npm run test:browser`): Debian's Chromium (/usr/bin/chromium,
 * package `chromium`) driven headless by playwright-core against a real aisbf and a fake upstream.
 * Screenshots go to test-results/browser/; with UPDATE_SCREENSHOT=1 the wide one also becomes
 * docs/dashboard.png (the README's picture).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { openDatabase } from '../../src/store/db.js';
import { UserStore } from '../../src/store/users.js';
import { hashPassword } from '../../src/identity/passwords.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-results', 'browser');
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps', '--disable-extensions'];

let fake: FakeOpenAI;
let profile: string;
let browser: BrowserContext;
/** Every URL the browser asked for, and every console error or page exception. */
const requested: string[] = [];
const consoleErrors: string[] = [];

async function openPage(): Promise<Page> {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.location().url}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

async function chat(base: string, model: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello from the browser test' }] }) });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  fake = await startFakeOpenAI();
  profile = mkdtempSync(join(tmpdir(), 'aisbf-chromium-'));
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1440, height: 1000 }, colorScheme: 'light' });
  browser.on('request', (r) => requested.push(r.url()));
});

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await fake?.close();
  // Checked last, over everything every page did.
  const outside = requested.filter((u) => !/^(http:\/\/127\.0\.0\.1:\d+\/|data:|blob:|about:)/.test(u));
  expect(outside, 'requests that left 127.0.0.1').toEqual([]);
  expect(consoleErrors, 'console errors').toEqual([]);
});

describe('the dashboard with auth off', () => {
  let aisbf: TestServer;
  beforeAll(async () => {
    aisbf = await startAisbf({
      providers: {
        openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-openai-secret-1234567890', models: [{ name: 'gpt-4o' }, { name: 'gpt-4o-mini' }] },
        backup: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-backup-secret-1234567890', models: [{ name: 'gpt-4.1-nano' }] },
      },
      rotationsFile: { failure_threshold: 2, cooldown_seconds: 900 },
      rotations: {
        coding: { strategy: 'weighted', providers: [{ provider_id: 'openai', models: [{ name: 'gpt-4o', weight: 3 }] }, { provider_id: 'backup', models: [{ name: 'gpt-4.1-nano', weight: 1 }] }] },
      },
      aisbf: { batches: { max_concurrent_lines: 1 } },
      autoselect: {
        auto: { selection_model: 'openai/gpt-4o-mini', fallback: 'coding', available_models: [{ model_id: 'coding', description: 'code' }, { model_id: 'openai/gpt-4o-mini', description: 'chat' }] },
      },
    });
  });
  afterAll(async () => {
    // Pages first: a page left polling a stopped server would log connection errors.
    for (const p of browser.pages()) await p.close();
    await aisbf?.close();
  });

  it('shows the providers, the live feed, a provider cooling down, and stops and starts a model', async () => {
    const page = await openPage();
    await page.goto(`${aisbf.url}/ui`);
    const providers = page.locator('#providers');
    await providers.locator('tr[data-provider="openai"]').waitFor();
    await providers.locator('tr[data-provider="backup"]').waitFor();
    await expect(providers.locator('tr[data-model="openai/gpt-4o"]').textContent()).resolves.toContain('healthy');
    await page.locator('#rotations [data-rotation="coding"]').waitFor();
    await expect(page.locator('#rotations').textContent()).resolves.toMatch(/openai\/gpt-4o.*w 3/);
    await page.locator('#live .dot.on').waitFor();

    // Traffic shows up in the live feed as it settles.
    for (let i = 0; i < 3; i++) expect((await chat(aisbf.url, 'openai/gpt-4o')).status).toBe(200);
    expect((await chat(aisbf.url, 'coding')).status).toBe(200);
    await page.locator('#live tbody tr').nth(3).waitFor();
    await expect(page.locator('#live tbody tr').first().textContent()).resolves.toMatch(/coding.*(openai\/gpt-4o|backup\/gpt-4\.1-nano).*200/);

    // The backup provider fails (500s) until it cools down; the page shows it red with the time left.
    fake.setModelBehavior('gpt-4.1-nano', { type: 'error', status: 500, message: 'upstream is on fire' });
    for (let i = 0; i < 2; i++) expect((await chat(aisbf.url, 'backup/gpt-4.1-nano')).status).toBe(502);
    fake.setModelBehavior('gpt-4.1-nano', undefined);
    const backupRow = providers.locator('tr[data-model="backup/gpt-4.1-nano"]');
    await backupRow.locator('.badge', { hasText: 'cooling' }).waitFor();
    await backupRow.locator('.cooldown', { hasText: /1[45]m \d+s left/ }).waitFor();
    await expect(backupRow.textContent()).resolves.toContain('upstream is on fire');
    await expect(backupRow.getAttribute('class')).resolves.toContain('row-bad');
    await page.locator('#rotations [data-rotation="coding"] .badge', { hasText: 'cooling' }).waitFor();
    await page.locator('header .badge', { hasText: 'degraded' }).waitFor();

    // Usage: the chart draws once there are records.
    await page.locator('#usage').getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#usage .chart canvas').waitFor();
    await expect(page.locator('#usage table.data').textContent()).resolves.toContain('openai/gpt-4o');

    // A stop button, by keyboard: focus and press Enter.
    const mini = providers.locator('tr[data-model="openai/gpt-4o-mini"]');
    await mini.getByRole('button', { name: 'Stop openai/gpt-4o-mini' }).focus();
    await page.keyboard.press('Enter');
    await mini.locator('.badge', { hasText: 'stopped' }).waitFor();
    expect((await chat(aisbf.url, 'openai/gpt-4o-mini')).status).toBe(503);
    await mini.getByRole('button', { name: 'Start openai/gpt-4o-mini' }).click();
    await mini.locator('.badge', { hasText: 'healthy' }).waitFor();

    // Pausing the live feed holds new rows back (once the refused request above is drawn).
    await page.locator('#live tbody tr', { hasText: 'model_stopped' }).waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    const before = await page.locator('#live tbody tr').count();
    expect((await chat(aisbf.url, 'openai/gpt-4o')).status).toBe(200);
    await page.getByRole('button', { name: /Resume \(1 new\)/ }).waitFor();
    expect(await page.locator('#live tbody tr').count()).toBe(before);
    await page.getByRole('button', { name: /Resume/ }).click();

    await page.screenshot({ path: join(SHOTS, 'dashboard-wide.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(join(SHOTS, 'dashboard-wide.png'), join(process.cwd(), 'docs', 'dashboard.png'));
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'dashboard-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('tr[data-provider="openai"]').waitFor();
    await page.screenshot({ path: join(SHOTS, 'dashboard-phone.png'), fullPage: true });
    // No sideways scrolling on a phone: the page is no wider than the screen.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.close();
  });
  it("shows a batch's progress and cancels it", async () => {
    const sdk = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    // Each line answers after a while, one at a time: the batch stays in progress long enough to cancel.
    fake.setModelBehavior('gpt-4o-mini', { type: 'reply', text: 'slow', headerDelayMs: 1500 });
    const lines = Array.from({ length: 6 }, (_, i) => JSON.stringify({ custom_id: `line-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `line ${i}` }] } }));
    const file = await sdk.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'lines.jsonl'), purpose: 'batch' });
    const batch = await sdk.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const page = await openPage();
    try {
      await page.goto(`${aisbf.url}/ui#batches`);
      const item = page.locator(`#batches li[data-batch="${batch.id}"]`);
      await item.locator('.progress-text', { hasText: /^[1-5]\/6/ }).waitFor();
      await item.locator('.badge', { hasText: 'in progress' }).waitFor();
      await page.screenshot({ path: join(SHOTS, 'batches.png'), fullPage: true });
      await item.getByRole('button', { name: `Cancel batch ${batch.id}` }).click();
      await item.locator('.badge', { hasText: /cancell/ }).waitFor();
      expect((await sdk.batches.retrieve(batch.id)).status).toMatch(/^cancell/);
    } finally {
      fake.setModelBehavior('gpt-4o-mini', undefined);
      await page.close();
    }
  });
});

describe('the dashboard with auth on', () => {
  let aisbf: TestServer;
  const STATIC = 'static-admin-token-0123456789abcdef';
  beforeAll(async () => {
    aisbf = await startAisbf({
      providers: { openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-openai-secret-1234567890', models: [{ name: 'gpt-4o' }] } },
      aisbf: { auth: { enabled: true, tokens: [STATIC] } },
    });
    const db = openDatabase(join(aisbf.configDir, 'aisbf.db'));
    new UserStore(db).add('admin', 'admin', await hashPassword('admin-password-1'));
    new UserStore(db).add('bob', 'user', await hashPassword('bob-password-12'));
    db.close();
  });
  afterAll(async () => {
    // Pages first: a page left polling a stopped server would log connection errors.
    for (const p of browser.pages()) await p.close();
    await aisbf?.close();
  });

  it('asks for a login, keeps the token out of the URL, and creates and revokes a key', async () => {
    const page = await openPage();
    await page.goto(`${aisbf.url}/ui`);
    await page.getByRole('heading', { name: 'aisbf dashboard' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'login.png') });

    // A user who is not an admin is turned away.
    await page.getByLabel('Username', { exact: true }).fill('bob');
    await page.getByLabel('Password', { exact: true }).fill('bob-password-12');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not an admin' }).waitFor();

    await page.getByLabel('Username', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('admin-password-1');
    await page.getByLabel('Password', { exact: true }).press('Enter');
    await page.locator('tr[data-provider="openai"]').waitFor();
    expect(page.url()).toBe(`${aisbf.url}/ui`);
    const token = await page.evaluate<string | null>("sessionStorage.getItem('aisbf.token')");
    expect(token).toMatch(/^ey/);
    expect(await page.evaluate<string>('document.cookie')).toBe('');

    // Create a key: shown once, and it works.
    const keys = page.locator('#keys');
    await keys.getByLabel('Name').fill('ci-runner');
    await keys.getByLabel('RPM').fill('60');
    await keys.getByLabel('Budget $').fill('5');
    await keys.getByRole('button', { name: 'Create key' }).click();
    const secret = (await keys.getByTestId('new-key').textContent())!;
    expect(secret).toMatch(/^sk-aisbf-/);
    const row = keys.locator('tr[data-key="ci-runner"]');
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(/active.*60 rpm.*\$0 \/ \$5\.00 a month/);
    expect(await row.textContent()).not.toContain(secret);
    expect((await chat(aisbf.url, 'openai/gpt-4o', { authorization: `Bearer ${secret}` })).status).toBe(200);
    await page.screenshot({ path: join(SHOTS, 'keys.png'), fullPage: true });
    await keys.getByRole('button', { name: 'I have copied it' }).click();
    expect(await keys.getByTestId('new-key').count()).toBe(0);

    // Revoke it: two steps, then the key no longer works.
    await row.getByRole('button', { name: 'Revoke key ci-runner' }).click();
    await row.getByRole('button', { name: 'Confirm revoking key ci-runner' }).click();
    await row.waitFor({ state: 'detached' });
    await keys.getByLabel('Show revoked keys').check();
    await keys.locator('tr[data-key="ci-runner"] .badge', { hasText: 'revoked' }).waitFor();
    expect((await chat(aisbf.url, 'openai/gpt-4o', { authorization: `Bearer ${secret}` })).status).toBe(401);

    // Log out, then in again by pasting an admin token.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('radio', { name: 'Log in with a key' }).check();
    await page.getByLabel('Admin key or token', { exact: true }).fill(STATIC);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('tr[data-provider="openai"]').waitFor();
    expect(page.url()).not.toContain(STATIC);
    await page.close();
  });
});
