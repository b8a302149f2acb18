/**
 * The gateway vouches for each request it sends a subgraph: the consumer organisation, the trace id and the time,
 * signed with a key only the gateway and the subgraphs hold (HMAC-SHA256). A subgraph refuses any request without
 * a valid, fresh signature, so calling it directly (around the gateway's authentication) gets nothing.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { CONSUMER_HEADER, encodeConsumer, type ConsumerOrganisation } from './consumer.js';

/** The trace id header between gateway and subgraphs. */
export const TRACE_HEADER = 'x-trace-id';

export const SIGNATURE_HEADER = 'x-gateway-signature';

/** How old a signature may be: covers clock skew between hosts and the longest booking call. */
export const MAX_SIGNATURE_AGE_SECONDS = 120;

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

function mac(key: string, consumer: string, traceId: string, issuedAt: number): string {
  return createHmac('sha256', key).update(`v1\n${consumer}\n${traceId}\n${issuedAt}`).digest('base64url');
}

/** `v1.<issued-at seconds>.<mac>` over the consumer header value (possibly empty) and the trace id. */
export function signInternal(key: string, consumer: string, traceId: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  return `v1.${nowSeconds}.${mac(key, consumer, traceId, nowSeconds)}`;
}

export type InternalCheck = { ok: true } | { ok: false; reason: string };

export function verifyInternal(
  key: string,
  signature: string | undefined,
  consumer: string,
  traceId: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): InternalCheck {
  if (!signature) return { ok: false, reason: 'no gateway signature' };
  const m = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(signature);
  if (!m) return { ok: false, reason: 'malformed gateway signature' };
  const issuedAt = Number(m[1]);
  if (Math.abs(nowSeconds - issuedAt) > MAX_SIGNATURE_AGE_SECONDS) return { ok: false, reason: 'expired gateway signature' };
  const expected = Buffer.from(mac(key, consumer, traceId, issuedAt));
  const given = Buffer.from(m[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid gateway signature' };
  return { ok: true };
}

/**
 * The headers the gateway sends a subgraph: the consumer organisation, the trace id, and the signature over both.
 * Also what tests use to call a subgraph as the gateway would.
 */
export function gatewayHeaders(
  consumer: ConsumerOrganisation | null,
  traceId: string = randomUUID(),
  key: string = internalKeyFromEnv(),
): Record<string, string> {
  const encoded = consumer ? encodeConsumer(consumer) : '';
  return {
    ...(consumer ? { [CONSUMER_HEADER]: encoded } : {}),
    [TRACE_HEADER]: traceId,
    [SIGNATURE_HEADER]: signInternal(key, encoded, traceId),
  };
}
