/**
 * /status on the gateway's internal port: the page an on-call engineer opens first. Self-contained (no external
 * resource at all), under a strict CSP: nothing loads but this document, its one script and one style (by nonce, a
 * fresh one per response), and fetches to the same origin. The script reads /status.json (the same report as the
 * `supplierStatus` query) and draws one row per supplier system with an inline SVG of the last hour, refreshing
 * every 15 seconds.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { SupplierStatusReport } from './operations/supplier-status.js';

export const STATUS_PATHS = { page: '/status', json: '/status.json' } as const;

export function statusCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };

export function serveStatusPage(res: ServerResponse): void {
  const nonce = randomBytes(16).toString('base64');
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': statusCsp(nonce), ...SECURITY_HEADERS });
  res.end(statusHtml(nonce));
}

export function serveStatusJson(res: ServerResponse, report: () => Promise<SupplierStatusReport>): void {
  report().then(
    (r) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
      res.end(JSON.stringify(r));
    },
    () => {
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
      res.end(JSON.stringify({ error: 'the status report could not be made' }));
    },
  );
}

const STYLE = `
:root { --ok:#1b7f3b; --warn:#b36b00; --bad:#c62828; --idle:#6b7280; --unk:#6b21a8; --line:#e5e7eb; --fg:#111827; --mute:#4b5563; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f9fafb; }
header { display: flex; gap: 16px; align-items: baseline; padding: 10px 16px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0; }
#summary { font-weight: 600; }
#updated { color: var(--mute); margin-left: auto; }
main { padding: 12px 16px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; white-space: nowrap; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: .03em; color: var(--mute); background: #f3f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { white-space: normal; min-width: 150px; max-width: 280px; }
.sys { min-width: 220px; }
.sys b { display: block; }
.sys small, .mute { color: var(--mute); }
.badge { display: inline-block; min-width: 76px; text-align: center; padding: 2px 6px; border-radius: 3px; color: #fff; font-weight: 600; font-size: 11px; }
.h-OK { background: var(--ok); } .h-DEGRADED { background: var(--warn); } .h-FAILING { background: var(--bad); }
.h-IDLE { background: var(--idle); } .h-UNKNOWN { background: var(--unk); }
.bad { color: var(--bad); font-weight: 600; } .warn { color: var(--warn); font-weight: 600; }
svg { display: block; }
.legend { margin-top: 8px; color: var(--mute); }
.legend i { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; vertical-align: -1px; }
.l-lat { background: #2563eb; } .l-fail { background: var(--bad); } .l-calls { background: #d1d5db; }
#error { color: var(--bad); font-weight: 600; }
tr.row-FAILING td { background: #fef2f2; } tr.row-DEGRADED td { background: #fffbeb; } tr.row-UNKNOWN td { background: #faf5ff; }
`;

// Runs in the browser. Builds the DOM with textContent and SVG attributes only: no innerHTML, no inline style.
const SCRIPT = `
(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const svgEl = (tag, attrs) => { const e = document.createElementNS(SVG, tag); for (const k in attrs) e.setAttribute(k, String(attrs[k])); return e; };
  const pct = (r) => r === null || r === undefined ? '–' : (r * 100).toFixed(r > 0 && r < 0.01 ? 2 : 1) + '%';
  const msText = (v) => v === null || v === undefined ? '–' : v >= 1000 ? (v / 1000).toFixed(1) + ' s' : v + ' ms';
  const age = (s) => s === null || s === undefined ? 'never' : s < 90 ? s + ' s' : s < 5400 ? Math.round(s / 60) + ' min' : (s / 3600).toFixed(1) + ' h';
  const rateClass = (r) => r === null ? '' : r >= 0.5 ? 'bad' : r > 0 ? 'warn' : '';

  function chart(points) {
    const W = 240, H = 44, n = 60, bw = W / n;
    const svg = svgEl('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    const maxCalls = Math.max(1, ...points.map((p) => p.calls));
    const maxLat = Math.max(100, ...points.map((p) => p.p95LatencyMs || 0));
    svg.appendChild(svgEl('rect', { x: 0, y: 0, width: W, height: H, fill: '#fafafa', stroke: '#e5e7eb' }));
    points.forEach((p, i) => {
      if (!p.calls) return;
      const h = Math.max(1, (p.calls / maxCalls) * (H - 4));
      const bar = svgEl('rect', { x: i * bw, y: H - h, width: bw - 0.5, height: h, fill: '#d1d5db' });
      const tip = svgEl('title', {});
      tip.textContent = new Date(p.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) + ': ' + p.calls + ' calls, ' + p.failures + ' failed, p95 ' + msText(p.p95LatencyMs);
      bar.appendChild(tip);
      svg.appendChild(bar);
      if (p.failures) {
        const fh = Math.max(2, (p.failures / maxCalls) * (H - 4));
        svg.appendChild(svgEl('rect', { x: i * bw, y: H - fh, width: bw - 0.5, height: fh, fill: '#c62828' }));
      }
    });
    const pts = points.map((p, i) => p.p95LatencyMs === null ? null : (i * bw + bw / 2).toFixed(1) + ',' + (H - 2 - (p.p95LatencyMs / maxLat) * (H - 6)).toFixed(1)).filter(Boolean);
    if (pts.length > 1) svg.appendChild(svgEl('polyline', { points: pts.join(' '), fill: 'none', stroke: '#2563eb', 'stroke-width': 1.5 }));
    else if (pts.length === 1) { const [x, y] = pts[0].split(','); svg.appendChild(svgEl('circle', { cx: x, cy: y, r: 2, fill: '#2563eb' })); }
    const t = svgEl('title', {}); t.textContent = 'Last hour: calls (grey), failures (red), p95 latency (blue line, top = ' + msText(maxLat) + ')';
    svg.appendChild(t);
    return svg;
  }

  function row(s) {
    const tr = el('tr', 'row-' + s.health);
    tr.dataset.system = s.system;
    const td = (child, cls) => { const c = el('td', cls); if (typeof child === 'string') c.textContent = child; else if (child) c.appendChild(child); tr.appendChild(c); return c; };
    td(el('span', 'badge h-' + s.health, s.health));
    const sys = el('div', 'sys'); sys.appendChild(el('b', '', s.name)); sys.appendChild(el('small', '', s.system + ' · ' + s.kind)); td(sys, 'wrap');
    td(age(s.dataAgeSeconds), 'num');
    const w5 = s.last5Minutes, w60 = s.last60Minutes;
    td(w5.failures + ' / ' + w5.calls, 'num');
    td(pct(w5.errorRate), 'num ' + rateClass(w5.errorRate));
    td(msText(w5.p95LatencyMs), 'num');
    td(pct(w60.errorRate), 'num ' + rateClass(w60.errorRate));
    td(msText(w60.p95LatencyMs), 'num');
    td(chart(s.lastHour));
    const reasons = w60.failuresByReason.map((r) => r.reason + ' ' + r.count).join(', ');
    td(s.lastFailureReason ? s.lastFailureReason + (reasons ? ' (1 h: ' + reasons + ')' : '') : '–', s.lastFailureReason ? 'wrap warn' : 'mute');
    td(s.circuit, s.circuit === 'OPEN' ? 'bad' : s.circuit === 'HALF_OPEN' ? 'warn' : '');
    td(s.throttle.state + ' · ' + s.throttle.limitPerSecond + '/s', s.throttle.state === 'REFUSING' ? 'warn' : '');
    td(s.qualityFlags.length ? s.qualityFlags.map((q) => q.flag + ' ' + q.count).join(', ') : '–', s.qualityFlags.length ? 'wrap' : 'mute');
    td(s.reportedBy ? s.reportedBy.host + ' #' + s.reportedBy.pid : 'no answer', s.reportedBy ? 'mute' : 'bad');
    return tr;
  }

  async function refresh() {
    const err = document.getElementById('error');
    try {
      const res = await fetch('status.json', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const r = await res.json();
      const body = document.getElementById('rows');
      body.replaceChildren(...r.systems.map(row));
      const counts = {};
      for (const s of r.systems) counts[s.health] = (counts[s.health] || 0) + 1;
      document.getElementById('summary').textContent = Object.keys(counts).sort().map((k) => counts[k] + ' ' + k).join(' · ');
      document.getElementById('updated').textContent = 'Updated ' + new Date(r.generatedAt).toLocaleTimeString() + ' (every 15 s)';
      document.body.dataset.loaded = 'true';
      err.textContent = '';
    } catch (e) {
      err.textContent = 'Could not load status.json: ' + e.message;
    }
  }
  refresh();
  setInterval(refresh, 15000);
})();
`;

function statusHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supplier status · NHS booking gateway</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header><h1>Supplier status</h1><span id="summary">Loading…</span><span id="error"></span><span id="updated"></span></header>
<main>
<table>
<thead><tr>
<th>Health</th><th>System</th><th>Data age</th><th>5 min fail / calls</th><th>5 min errors</th><th>5 min p95</th>
<th>1 h errors</th><th>1 h p95</th><th>Last hour</th><th>Last failure</th><th>Circuit</th><th>Throttle</th><th>Quality flags</th><th>Replica</th>
</tr></thead>
<tbody id="rows"></tbody>
</table>
<div class="legend">Last hour, one bar per minute:<i class="l-calls"></i>calls<i class="l-fail"></i>failures<i class="l-lat"></i>p95 latency.
Each row is the view of the one subgraph replica named; other replicas keep their own.</div>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}
