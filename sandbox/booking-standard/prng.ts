/**
 * Determinism helpers. The simulator must give byte-identical diaries on every run and in every process (so tests,
 * recorded fixtures and two replicas agree), so nothing here touches Math.random or the wall clock.
 */
import { createHash } from 'node:crypto';

/** 32-bit FNV-1a hash of a string: a stable seed from names like "1402000101|2026-06-01". */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a tiny, fast PRNG with good enough spread for "about 30% of slots are taken". Returns [0, 1). */
export function seededRandom(seed: number | string): () => number {
  let a = typeof seed === 'string' ? hashSeed(seed) : seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Namespace for this simulator's name-based UUIDs (itself a v5 UUID of the simulator's name in the URL namespace). */
const NAMESPACE = '5b1c0f0e-6a55-5c9e-9d0e-2f6c8a1e7b42';
const namespaceBytes = new Map<string, Buffer>();

/**
 * RFC 4122 version-5 (name-based, SHA-1) UUID. Slot identifiers use the `https://tools.ietf.org/html/rfc4122`
 * system, so they must be real UUIDs; name-based ones are both valid and stable across runs.
 */
export function uuidV5(name: string, namespace: string = NAMESPACE): string {
  let ns = namespaceBytes.get(namespace);
  if (!ns) namespaceBytes.set(namespace, (ns = Buffer.from(namespace.replace(/-/g, ''), 'hex')));
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50; // version 5
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
