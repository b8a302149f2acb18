/**
 * The self-hosted GraphiQL in a real browser: Debian's chromium driven by playwright-core, against the whole stack
 * started on free ports. Every request to a host other than this machine is blocked and fails the test: the IDE
 * must work on a closed network. The page must load its examples and (in development) a dev token, run a query
 * typed into the editor, show the answer, and log no errors (CSP violations included).
 *
 * The operator's view shares the stack and the browser: `supplierStatus` (operator scope; a fault injected into one
 * simulator shows on that system only; a stopped subgraph gives UNKNOWN) and the /status page on the internal port.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ISSUER } from '../gateway/config.js';
import { loadExamples } from '../gateway/ide.js';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { repoRoot } from '../subgraphs/kit/schema.js';
import { devToken } from '../scripts/token.js';
import { gatewayHeaders } from '../common/internal-auth.js';
import { loadRegistry } from '../subgraphs/kit/registry.js';
import { SUPPLIER_STATUS_PATH } from '../subgraphs/kit/supplier-status.js';
import { clearSandbox, decodeJwt, gql, injectFault, noInternalAddress } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Typed into the editor: services at St James's (LS9 7TF) with their slot counts. Starts with a letter, not a
 * brace, so Monaco's bracket auto-closing leaves the inserted text as it is. */
const TYPED_QUERY = 'query StJames { services(near: { postcode: "LS9 7TF" }, radiusKm: 1, first: 3) { nodes { name slots(first: 2) { totalCount } } } }';

let stack: Stack | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No browser at ${CHROMIUM}. .ci/run installs Debian's chromium (apt-get install -y chromium); ` +
        'never download one (`npx playwright install` cannot work on this network).',
    );
  }
  if (!existsSync(`${repoRoot}ide/dist/index.html`)) {
    throw new Error('The IDE bundle is not built (ide/dist/index.html is missing): run `npm run build:ide` (`npm ci` runs it).');
  }
  // chromium.launch gives every launch a fresh temporary profile (user-data dir) and deletes it on close.
  const [s, b] = await Promise.allSettled([
    startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn' } }),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
  ]);
  if (s.status === 'fulfilled') stack = s.value;
  if (b.status === 'fulfilled') browser = b.value;
  if (s.status === 'rejected') throw s.reason;
  if (b.status === 'rejected') throw b.reason;
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stopAll();
});

/** The text of a Monaco editor (its rendered lines), with Monaco's non-breaking spaces made plain. */
async function editorText(page: Page, selector: string): Promise<string> {
  return (await page.locator(`${selector} .view-lines`).first().innerText()).replace(/\u00a0/g, ' ');
}

/** The token in the open headers editor, checked to be a live sandbox token for the dev consumer. */
async function prefilledToken(page: Page): Promise<string> {
  await page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .view-lines', { hasText: 'Authorization' }).waitFor();
  const headers = JSON.parse(await editorText(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)')) as Record<string, string>;
  expect(Object.keys(headers)).toEqual(['Authorization']);
  const token = headers.Authorization!.replace(/^Bearer /, '');
  const claims = decodeJwt(token).payload;
  expect(claims).toMatchObject({ iss: DEV_ISSUER, ods_code: 'RX8' });
  expect(claims.exp * 1000).toBeGreaterThan(Date.now());
  return token;
}

describe('the self-hosted GraphQL IDE', () => {
  it('works offline in a real browser: examples and dev token prefilled, a typed query answered on screen', async () => {
    const context = await browser!.newContext({ viewport: { width: 1400, height: 900 }, serviceWorkers: 'block' });
    const external: string[] = [];
    const problems: string[] = [];
    const isLocal = (url: string) => {
      const u = new URL(url);
      return !/^(https?|wss?):$/.test(u.protocol) || LOCAL_HOSTS.has(u.hostname);
    };
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLocal(url)) return route.continue();
      external.push(url);
      return route.abort('blockedbyclient');
    });
    // Anything that went out without passing the route (none should) is recorded too.
    context.on('request', (r) => {
      if (!isLocal(r.url()) && !external.includes(r.url())) external.push(r.url());
    });

    const page = await context.newPage();
    // Which step a failure happened in, and when: a slow machine and a stuck page look alike from the outside.
    const started = Date.now();
    const steps: string[] = [];
    const step = (name: string) => steps.push(`${name} at ${Date.now() - started} ms`);
    try {
      const onConsole = (where: string) => (m: ConsoleMessage) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${where} console.${m.type()}: ${m.text()}`);
      };
      page.on('console', onConsole('page'));
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('worker', (w) => w.on('console', onConsole(`worker ${w.url()}`)));
      page.on('websocket', (ws) => {
        if (!isLocal(ws.url())) external.push(ws.url());
      });
      page.on('requestfailed', (r) => {
        // ERR_ABORTED: cancelled by the page itself (the reload below stops workers still loading), not a failure.
        const error = r.failure()?.errorText ?? '';
        if (isLocal(r.url()) && error !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.method()} ${r.url()} ${error}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
      });
      // CSP violations also reach the console as errors; this names the directive for a clearer failure.
      // (A string: the root tsconfig has no DOM types, and this runs in the page.)
      await page.addInitScript({
        content: `document.addEventListener('securitypolicyviolation', (e) =>
          console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));`,
      });

      const gateway = `http://127.0.0.1:${stack!.port('gateway')}`;
      const introspection = page.waitForResponse((r) => r.url() === `${gateway}/graphql` && (r.request().postData() ?? '').includes('__schema'));
      step('open /graphiql');
      await page.goto(`${gateway}/graphiql`);
      expect(page.url()).toBe(`${gateway}/graphiql/`);

      // The README's example operations are the tabs, the first one open.
      step('wait for the examples');
      await page.locator('.graphiql-query-editor .view-lines', { hasText: 'LS1' }).waitFor();
      const examples = loadExamples(`${repoRoot}ide/examples`);
      expect(examples.length).toBeGreaterThanOrEqual(2);
      expect((await page.locator('.graphiql-tab').allInnerTexts()).map((t) => t.trim())).toEqual(examples.map((e) => e.name));
      expect(await editorText(page, '.graphiql-query-editor')).toContain('services(near: { postcode: "LS1 4AP" }');

      // The headers editor is open, holding a freshly minted sandbox token for the dev consumer.
      step('wait for the token');
      const token = await prefilledToken(page);

      // The schema arrived (docs, completion and validation depend on it).
      step('wait for introspection');
      const intro = await introspection;
      expect(intro.status(), `introspection answered ${intro.status()}: ${await intro.text()}`).toBe(200);

      // Type a query and run it with the button.
      step('type the query');
      await page.locator('.graphiql-query-editor .monaco-editor').click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.insertText(TYPED_QUERY);
      await expect.poll(() => editorText(page, '.graphiql-query-editor'), { timeout: 15_000 }).toBe(TYPED_QUERY);
      step('wait for the operation name');
      // GraphiQL takes the operation name from the editor after a short debounce; the tab shows it once it has.
      await page.locator('.graphiql-tab-active', { hasText: 'StJames' }).waitFor();
      const answer = page.waitForResponse((r) => r.url() === `${gateway}/graphql` && (r.request().postData() ?? '').includes('StJames'));
      step('run the query');
      await page.locator('.graphiql-execute-button').click();
      const res = await answer;
      step('wait for the answer on screen');
      expect(res.status(), `${await res.text()}\n${stack!.output('gateway')}`).toBe(200);
      expect(await res.request().headerValue('authorization')).toBe(`Bearer ${token}`);
      const body = (await res.json()) as { errors?: unknown; data?: { services: { nodes: { name: string }[] } } };
      expect(body.errors).toBeUndefined();
      expect(body.data!.services.nodes.map((n) => n.name)).toContain("St James's Urgent Treatment Centre");

      // ... and the answer is on screen.
      await expect
        .poll(() => editorText(page, '.result-window'), { timeout: 15_000 })
        .toContain('"name": "St James\'s Urgent Treatment Centre"');

      // Headers (the token) never reach localStorage, not even through the query history.
      expect(await page.evaluate<string>('JSON.stringify(localStorage)')).not.toContain('Bearer');

      // A reload restores the tabs from localStorage, with this visit's token filled in again.
      step('reload');
      await page.reload();
      await page.locator('.graphiql-tab-active', { hasText: 'StJames' }).waitFor();
      await prefilledToken(page);

      expect(external, 'requests to other hosts').toEqual([]);
      expect(problems, 'errors and warnings the page logged, failed requests').toEqual([]);
    } catch (err) {
      // What the browser showed, for the failure report (.tmp/ is git-ignored).
      await page.screenshot({ path: `${repoRoot}.tmp/ide-e2e-failure.png` }).catch(() => {});
      if (err instanceof Error) err.message += `\nsteps: ${steps.join('; ')}; failed at ${Date.now() - started} ms`;
      throw err;
    } finally {
      await context.close();
    }
  });

  it('serves the bundle with long-lived caching, the CSP and nosniff', async () => {
    const gateway = `http://127.0.0.1:${stack!.port('gateway')}`;
    const index = await fetch(`${gateway}/graphiql/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(await index.text())?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${gateway}/graphiql/${script}`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${gateway}/graphiql/config.json`)).headers.get('cache-control')).toBe('no-store');
  });
});

// ---- the operator's view: supplierStatus and /status on the internal port (same stack, same browser) --------------

const SUPPLIER_STATUS = /* GraphQL */ `
  query {
    supplierStatus {
      generatedAt
      systems {
        system name kind subgraph health reportedBy { host pid } lastSuccessAt dataAgeSeconds lastFailureReason
        last5Minutes { calls failures errorRate p95LatencyMs failuresByReason { reason count } throttleWaits throttleRefusals }
        last60Minutes { calls failures errorRate p95LatencyMs }
        lastHour { at calls failures p95LatencyMs }
        circuit throttle { limitPerSecond state } qualityFlags { flag count }
      }
    }
  }
`;
const SEARCH = 'query($s: AvailabilitySearch!) { availability(search: $s) { totalCount coverage { failures { supplierSystem reason } } } }';
const SYSTEMS = loadRegistry().systems.map((s) => s.id);

function day(n: number) {
  const from = new Date(Date.now() + n * 86_400_000);
  from.setUTCHours(0, 0, 0, 0);
  return { from: from.toISOString(), to: new Date(from.getTime() + 86_400_000 - 1000).toISOString() };
}

describe("the operator's view", () => {
  it('supplierStatus needs the operator scope; with it, every registry system is reported with the replica that saw it', async () => {
    const consumer = await gql(stack!.gatewayUrl, SUPPLIER_STATUS, {}, { authorization: `Bearer ${await devToken({ org: 'RX8' })}` });
    expect(consumer.status).toBe(403);
    expect(consumer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(consumer.data ?? null).toBeNull();
    const anonymous = await gql(stack!.gatewayUrl, SUPPLIER_STATUS);
    expect(anonymous.status).toBe(401);

    const res = await gql(stack!.gatewayUrl, SUPPLIER_STATUS, {}, { authorization: `Bearer ${await devToken({ org: 'RX8', scope: 'operator' })}` });
    expect(res.errors, res.raw).toBeUndefined();
    const systems = res.data!.supplierStatus.systems as any[];
    expect(systems.map((s) => s.system)).toEqual(SYSTEMS);
    for (const s of systems) {
      expect(s.health).not.toBe('UNKNOWN');
      expect(s.reportedBy).toMatchObject({ host: expect.any(String), pid: expect.any(Number) });
      expect(s.lastHour).toHaveLength(60);
    }
    expect(noInternalAddress(res.raw)).toBe(true);
  });

  it("a subgraph's status endpoint answers the gateway's signature only, once", async () => {
    const url = new URL(SUPPLIER_STATUS_PATH, stack!.url('booking-standard')).toString();
    expect((await fetch(url)).status).toBe(401);
    const headers = gatewayHeaders(null, { method: 'GET', url, body: '' });
    const first = await fetch(url, { headers });
    expect(first.status).toBe(200);
    const view = (await first.json()) as { replica: { host: string; pid: number }; systems: unknown[] };
    expect(view.replica.pid).toBe(stack!.pid('booking-standard'));
    expect(Array.isArray(view.systems)).toBe(true);
    // The same signature again, or one made for another method or path, is refused.
    expect((await fetch(url, { headers })).status).toBe(401);
    expect((await fetch(url, { headers: gatewayHeaders(null, { method: 'POST', url, body: '' }) })).status).toBe(401);
    expect((await fetch(url, { headers: gatewayHeaders(null, { method: 'GET', url: `${url}x`, body: '' }) })).status).toBe(401);
  });

  it('a supplier answering 500 shows failures and an error rate; the others none', async () => {
    const bs = stack!.url('sandbox-booking-standard');
    const auth = { authorization: `Bearer ${await devToken({ org: 'RX8' })}` };
    await clearSandbox(bs);
    await injectFault(bs, { pathPrefix: '/harbour/', status: 500 });
    try {
      for (const d of [3, 4, 5]) {
        const r = await gql(stack!.gatewayUrl, SEARCH, { s: { near: { postcode: 'LS1 4AP' }, radiusKm: 15, first: 50, ...day(d) } }, auth);
        expect(r.errors, r.raw).toBeUndefined();
      }
    } finally {
      await clearSandbox(bs);
    }
    const res = await gql(stack!.gatewayUrl, SUPPLIER_STATUS, {}, { authorization: `Bearer ${await devToken({ org: 'RX8', scope: 'operator' })}` });
    expect(res.errors, res.raw).toBeUndefined();
    const by = Object.fromEntries((res.data!.supplierStatus.systems as any[]).map((s) => [s.system, s]));
    const harbour = by['harbour-uec'];
    expect(harbour.last5Minutes.failures).toBeGreaterThan(0);
    expect(harbour.last5Minutes.errorRate).toBeGreaterThan(0);
    expect(harbour.last5Minutes.failuresByReason).toContainEqual({ reason: 'UNAVAILABLE', count: expect.any(Number) });
    expect(harbour.lastFailureReason).toBe('UNAVAILABLE');
    expect(['DEGRADED', 'FAILING']).toContain(harbour.health);
    expect(harbour.lastHour.at(-1).failures + harbour.lastHour.at(-2).failures).toBeGreaterThan(0);
    // Meridian (the same subgraph and simulator) and the PAS answered the same searches.
    for (const id of ['meridian-ooh', 'oakfield-pas']) {
      expect(by[id].last5Minutes.calls, id).toBeGreaterThan(0);
      expect(by[id].last5Minutes.p95LatencyMs, id).toBeGreaterThan(0);
      expect(by[id].lastSuccessAt, id).not.toBeNull();
      expect(by[id].dataAgeSeconds, id).toBeGreaterThanOrEqual(0);
    }
    // The injected 500s are Harbour's alone. On a busy machine another system may time out, and then says so truly:
    // anything but a TIMEOUT there would be a wrong report.
    for (const id of SYSTEMS.filter((s) => s !== 'harbour-uec')) {
      const failures = by[id].last5Minutes.failuresByReason as { reason: string; count: number }[];
      expect(failures.filter((f) => f.reason !== 'TIMEOUT'), id).toEqual([]);
    }
  });

  it('/status works offline in a real browser: strict CSP, no errors, every supplier listed (screenshot taken)', async () => {
    const internal = `http://127.0.0.1:${stack!.port('gateway-internal')}`;
    const head = await fetch(`${internal}/status`);
    const csp = head.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await head.body?.cancel();
    const json = await fetch(`${internal}/status.json`);
    expect(json.status).toBe(200);
    const raw = await json.text();
    expect((JSON.parse(raw) as { systems: { system: string }[] }).systems.map((s) => s.system)).toEqual(SYSTEMS);
    expect(noInternalAddress(raw)).toBe(true);

    const context = await browser!.newContext({ viewport: { width: 1600, height: 700 }, serviceWorkers: 'block' });
    const external: string[] = [];
    const problems: string[] = [];
    const isLocal = (url: string) => {
      const u = new URL(url);
      return !/^(https?|wss?):$/.test(u.protocol) || LOCAL_HOSTS.has(u.hostname);
    };
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLocal(url)) return route.continue();
      external.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    try {
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
      });
      await page.addInitScript({
        content: `document.addEventListener('securitypolicyviolation', (e) =>
          console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));`,
      });
      await page.goto(`${internal}/status`);
      await page.locator('body[data-loaded="true"]').waitFor({ timeout: 15_000 });
      const rows = page.locator('#rows tr');
      expect(await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { system: string } }).dataset.system))).toEqual(SYSTEMS);
      // The failing supplier from the test before is marked so, and its row has its chart of the hour.
      const harbour = page.locator('#rows tr[data-system="harbour-uec"]');
      expect(await harbour.locator('.badge').innerText()).toMatch(/DEGRADED|FAILING/);
      expect(await harbour.locator('svg rect').count()).toBeGreaterThan(1);
      expect(await page.locator('#summary').innerText()).not.toBe('Loading…');
      mkdirSync(`${repoRoot}.tmp`, { recursive: true });
      await page.screenshot({ path: `${repoRoot}.tmp/status-page.png`, fullPage: true });
      expect(statSync(`${repoRoot}.tmp/status-page.png`).size).toBeGreaterThan(5000);
      expect(external, 'requests to other hosts').toEqual([]);
      expect(problems, 'errors the page logged, CSP violations included').toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a supplier subgraph that does not answer gives its systems as UNKNOWN, the rest as usual', async () => {
    await stack!.stop('smart-links');
    const res = await gql(stack!.gatewayUrl, SUPPLIER_STATUS, {}, { authorization: `Bearer ${await devToken({ org: 'RX8', scope: 'operator' })}` });
    expect(res.errors, res.raw).toBeUndefined();
    const systems = res.data!.supplierStatus.systems as any[];
    for (const s of systems) {
      if (s.kind === 'SMART_LINKS') expect(s).toMatchObject({ health: 'UNKNOWN', reportedBy: null, circuit: 'UNKNOWN' });
      else expect(s.health, s.system).not.toBe('UNKNOWN');
    }
    expect(systems.some((s) => s.kind === 'SMART_LINKS')).toBe(true);
    expect(noInternalAddress(res.raw)).toBe(true);
  });
});
