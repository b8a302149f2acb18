/**
 * The gateway vouches for each request it sends a subgraph, signed with a key only the gateway and the subgraphs
 * hold (HMAC-SHA256): the consumer organisation, the trace id, the time, a random nonce, and the request itself
 * (method, path and query, and a SHA-256 digest of the exact body bytes). A subgraph refuses any request without a
 * valid, fresh signature over exactly what it received, and any signature it has already seen: a captured header
 * set can neither carry another body, nor another path, nor be sent again.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { CONSUMER_HEADER, encodeConsumer, type ConsumerOrganisation } from './consumer.js';
import type { RedisClient } from './redis.js';

/** The trace id header between gateway and subgraphs. */
export const TRACE_HEADER = 'x-trace-id';

export const SIGNATURE_HEADER = 'x-gateway-signature';

/**
 * How far a signature's time may be from the subgraph's clock, either way. The signature is made as the request
 * leaves the gateway and checked as soon as its body has arrived, before any work, so this covers only clock
 * difference between hosts (NTP keeps them well under a second) and time spent queued on the way in (a busy event
 * loop, a slow body): a few seconds. How long the booking then takes does not matter. Ten seconds, not minutes: a
 * captured signature is useless to replay (it is remembered for its whole window) and the window bounds how long
 * each must be remembered.
 */
export const MAX_SIGNATURE_SKEW_SECONDS = 10;

/** The sandbox's key; production must configure its own (INTERNAL_AUTH_KEY), and refuses to start without it. */
export const SANDBOX_INTERNAL_KEY = 'sandbox-only-internal-signing-key';

export function internalKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const key = env.INTERNAL_AUTH_KEY;
  if (key) {
    if (key.length < 32) throw new Error('INTERNAL_AUTH_KEY must be at least 32 characters');
    return key;
  }
  if (env.NODE_ENV === 'production') throw new Error('INTERNAL_AUTH_KEY must be set in production');
  return SANDBOX_INTERNAL_KEY;
}

/** What a signature covers, besides its time and nonce. */
export interface SignedRequest {
  /** HTTP method (upper-cased before signing). */
  method: string;
  /** Path and query string exactly as sent (`/graphql`, `/graphql?x=1`); a full URL is reduced to them. */
  path: string;
  /** The exact body sent (empty for none). */
  body: string | Uint8Array;
  /** The consumer header's value, or '' when there is none. */
  consumer: string;
  /** The trace id header's value, or ''. */
  traceId: string;
}

const VERSION = 'v2';

/** A full URL or a path → the path and query a server sees as its request target. */
export function requestTarget(urlOrPath: string): string {
  if (urlOrPath.startsWith('/')) return urlOrPath;
  const u = new URL(urlOrPath);
  return `${u.pathname}${u.search}`;
}

function bodyDigest(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

function mac(key: string, r: SignedRequest, issuedAt: number, nonce: string): string {
  const text = [VERSION, String(issuedAt), nonce, r.method.toUpperCase(), requestTarget(r.path), bodyDigest(r.body), r.consumer, r.traceId].join('\n');
  return createHmac('sha256', key).update(text).digest('base64url');
}

/** `v2.<issued-at seconds>.<nonce>.<mac>`. The nonce makes two identical requests in one second two signatures. */
export function signInternal(key: string, r: SignedRequest, nowSeconds = Math.floor(Date.now() / 1000), nonce = randomBytes(12).toString('base64url')): string {
  return `${VERSION}.${nowSeconds}.${nonce}.${mac(key, r, nowSeconds, nonce)}`;
}

export type InternalCheck =
  | {
      ok: true;
      /** What identifies this signature for replay detection (its MAC). */
      id: string;
      /** Until when (epoch ms) it would still be accepted, so how long it must be remembered. */
      acceptedUntilMs: number;
    }
  | { ok: false; reason: string };

const FORMAT = /^v2\.(\d{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

/**
 * The checks that need no body: present, well formed, fresh. A subgraph runs them before reading the body, so
 * anything unsigned is refused without reading it.
 */
export function precheckInternal(signature: string | undefined, nowSeconds = Math.floor(Date.now() / 1000)): { ok: true } | { ok: false; reason: string } {
  if (!signature) return { ok: false, reason: 'no gateway signature' };
  const m = FORMAT.exec(signature);
  if (!m) return { ok: false, reason: 'malformed gateway signature' };
  if (Math.abs(nowSeconds - Number(m[1])) > MAX_SIGNATURE_SKEW_SECONDS) return { ok: false, reason: 'expired gateway signature' };
  return { ok: true };
}

/** Whether `signature` is the gateway's, now, over exactly this request. Does not look for replays (ReplayGuard). */
export function verifyInternal(key: string, signature: string | undefined, r: SignedRequest, nowSeconds = Math.floor(Date.now() / 1000)): InternalCheck {
  const pre = precheckInternal(signature, nowSeconds);
  if (!pre.ok) return pre;
  const m = FORMAT.exec(signature!)!;
  const issuedAt = Number(m[1]);
  const expected = Buffer.from(mac(key, r, issuedAt, m[2]!));
  const given = Buffer.from(m[3]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid gateway signature' };
  return { ok: true, id: m[3]!, acceptedUntilMs: (issuedAt + MAX_SIGNATURE_SKEW_SECONDS + 1) * 1000 };
}

/**
 * Remembers every signature a subgraph accepted for as long as it could be accepted, and says whether one was seen
 * before. Shared through Redis (`SET NX PX`) when configured, so a signature used at one replica is refused at every
 * other; always also remembered in this process, which is all there is without Redis or while it is down (a replay
 * to another replica during an outage is then not caught: the ten-second window still bounds it).
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private inserts = 0;

  constructor(
    private readonly opts: {
      redis?: RedisClient | null;
      /** Told about a failed Redis command (logged at most once in a while by the caller's OutageLog). */
      onRedisError?: (err: unknown) => void;
      /** Most signatures kept in process; the oldest go first (they are the nearest to expiry anyway). */
      maxLocal?: number;
      clock?: () => number;
    } = {},
  ) {}

  /** True the first time `id` is offered within its window, false for every later time. */
  async firstUse(id: string, acceptedUntilMs: number): Promise<boolean> {
    const now = (this.opts.clock ?? Date.now)();
    const ttlMs = Math.max(1, acceptedUntilMs - now);
    const known = this.seen.get(id);
    if (known !== undefined && known > now) return false;
    this.remember(id, now + ttlMs, now);
    const redis = this.opts.redis;
    if (redis && redis.status === 'ready') {
      try {
        const set = await redis.set(`internal-sig:${id}`, '1', 'PX', ttlMs, 'NX');
        if (set === null) return false;
      } catch (err) {
        this.opts.onRedisError?.(err);
      }
    }
    return true;
  }

  private remember(id: string, until: number, now: number): void {
    this.seen.delete(id);
    this.seen.set(id, until);
    // Insertion order is expiry order (every entry lives one window), so expired entries are all at the front.
    if (++this.inserts % 256 === 0 || this.seen.size > (this.opts.maxLocal ?? 500_000)) {
      for (const [k, exp] of this.seen) {
        if (exp > now && this.seen.size <= (this.opts.maxLocal ?? 500_000)) break;
        this.seen.delete(k);
      }
    }
  }
}

/** The consumer and trace headers the gateway sends a subgraph (the signature is added as the request is sent). */
export function identityHeaders(consumer: ConsumerOrganisation | null, traceId: string): Record<string, string> {
  return { ...(consumer ? { [CONSUMER_HEADER]: encodeConsumer(consumer) } : {}), [TRACE_HEADER]: traceId };
}

function headerValue(headers: Headers, name: string): string {
  return headers.get(name) ?? '';
}

/**
 * Signs a request about to be sent to a subgraph over exactly what will be sent: its URL, method, body and the
 * consumer and trace headers it already carries. Returns the headers to send (a copy, with the signature).
 */
export function signedHeaders(key: string, url: string, init: { method?: string | undefined; headers?: ConstructorParameters<typeof Headers>[0] | undefined; body?: unknown }): Headers {
  const headers = new Headers(init.headers);
  const body = init.body ?? '';
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) throw new Error('a request to a subgraph must have a string or byte body to be signed');
  headers.set(
    SIGNATURE_HEADER,
    signInternal(key, {
      method: init.method ?? 'GET',
      path: url,
      body,
      consumer: headerValue(headers, CONSUMER_HEADER),
      traceId: headerValue(headers, TRACE_HEADER),
    }),
  );
  return headers;
}

/**
 * The headers the gateway sends a subgraph for one request: the consumer organisation, the trace id, and the
 * signature over both and over the request (method, path and body exactly as they will be sent). One use only:
 * a subgraph refuses the same signature twice. Also what tests use to call a subgraph as the gateway would.
 */
export function gatewayHeaders(
  consumer: ConsumerOrganisation | null,
  request: { method?: string; url: string; body: string | Uint8Array },
  traceId: string = randomUUID(),
  key: string = internalKeyFromEnv(),
): Record<string, string> {
  const headers = identityHeaders(consumer, traceId);
  return {
    ...headers,
    [SIGNATURE_HEADER]: signInternal(key, {
      method: request.method ?? 'POST',
      path: request.url,
      body: request.body,
      consumer: headers[CONSUMER_HEADER] ?? '',
      traceId,
    }),
  };
}
