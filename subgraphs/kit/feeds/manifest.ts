/**
 * The `$bulk-publish` manifest (spec §1.2), read tolerantly: extra keys (null or not) are ignored, a `state`
 * extension sent as a bare string is taken as a list of one, a file URL with a trailing slash loses it, relative
 * URLs are resolved against the manifest's own, duplicate outputs are read once, and output types we do not
 * understand are ignored as the spec requires. Only a body that is not a JSON object with an `output` list is an
 * error: then there is nothing to read, and the previous snapshot stands.
 */
import type { FeedIssue } from './types.js';
import { instant, list, object, text, type Note } from './values.js';

export interface ManifestOutput {
  /** As published (`Slot`, `Location`, ..., or a type we ignore). */
  type: string;
  url: string;
  /** Jurisdictions the file covers (the `state` extension), when given. */
  states: string[] | null;
}

export interface Manifest {
  transactionTime: string | null;
  outputs: ManifestOutput[];
}

export type ManifestResult = { ok: true; manifest: Manifest; issues: FeedIssue[] } | { ok: false; reason: string };

const FILE_NAME = /\.[A-Za-z0-9]{1,10}$/;

export function parseManifest(body: string, manifestUrl: string): ManifestResult {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'manifest is not JSON' };
  }
  const root = object(raw);
  if (!root) return { ok: false, reason: 'manifest is not a JSON object' };
  if (!Array.isArray(root.output)) return { ok: false, reason: 'manifest has no output list' };

  const issues: FeedIssue[] = [];
  const file = fileName(manifestUrl);
  const say = (action: FeedIssue['action'], reason: string) =>
    issues.push({ kind: 'manifest', action, resourceType: 'Manifest', file, line: null, id: null, reason });
  const note: Note = (_kind, action, reason) => say(action, reason);

  const tt = instant(root.transactionTime);
  if (!tt) say('flagged', `transactionTime ${JSON.stringify(root.transactionTime ?? null)} is not an instant with an offset`);

  const request = text(root.request, 'request', note);
  if (request?.endsWith('/')) say('normalised', 'request has a trailing slash');

  const errors = list(root.error, 'error', note);
  if (errors.length > 0) say('flagged', `the publisher reports ${errors.length} error(s) in the manifest's error list`);

  const outputs: ManifestOutput[] = [];
  root.output.forEach((entry, i) => {
    const o = object(entry);
    if (!o) {
      say('skipped', `output[${i}] is ${JSON.stringify(entry)}, not an object`);
      return;
    }
    const type = text(o.type, `output[${i}].type`, note);
    const rawUrl = text(o.url, `output[${i}].url`, note);
    if (!type || !rawUrl) {
      say('skipped', `output[${i}] has no ${type ? 'url' : 'type'}`);
      return;
    }
    const url = resolveUrl(rawUrl, manifestUrl);
    if (!url) {
      say('skipped', `output[${i}] url "${rawUrl.slice(0, 120)}" is not an http(s) URL`);
      return;
    }
    if (url.changed) say('normalised', `output[${i}] url ${url.changed}`);
    if (outputs.some((x) => x.url === url.href)) {
      say('normalised', `output[${i}] lists ${fileName(url.href)} again; read once`);
      return;
    }
    outputs.push({ type: canonicalType(type), url: url.href, states: states(object(o.extension)?.state, i, say) });
  });

  return { ok: true, manifest: { transactionTime: tt ? new Date(tt.ms).toISOString() : null, outputs }, issues };
}

/** The last path segment of a URL, for issues and logs. */
export function fileName(url: string): string {
  try {
    const path = new URL(url).pathname.replace(/\/+$/, '');
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || url;
  } catch {
    return url;
  }
}

/**
 * Resolves against the manifest URL and drops a trailing slash after a file name (`…/slots.ndjson/`), which
 * static hosts answer with 404. A trailing slash after a name with no extension may be a real directory-style
 * URL, and is kept.
 */
function resolveUrl(raw: string, base: string): { href: string; changed: string | null } | null {
  let u: URL;
  try {
    u = new URL(raw, base);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  const changes: string[] = [];
  if (!/^https?:\/\//i.test(raw)) changes.push('was relative; resolved against the manifest URL');
  const trimmed = u.pathname.replace(/\/+$/, '');
  if (trimmed !== u.pathname && FILE_NAME.test(trimmed)) {
    u.pathname = trimmed;
    changes.push('had a trailing slash after its file name; removed');
  }
  return { href: u.toString(), changed: changes.length ? changes.join('; ') : null };
}

/** `slot` or `SLOT` from a careless publisher is still a Slot file. */
function canonicalType(type: string): string {
  const known = ['Location', 'Schedule', 'Slot', 'PractitionerRole', 'Practitioner', 'HealthcareService', 'Device'];
  return known.find((k) => k.toLowerCase() === type.toLowerCase()) ?? type;
}

function states(v: unknown, i: number, say: (action: FeedIssue['action'], reason: string) => void): string[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    say('normalised', `output[${i}] extension.state is the bare string "${v}", not an array`);
    return [v];
  }
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string');
  say('normalised', `output[${i}] extension.state is not a list of states; ignored`);
  return null;
}
