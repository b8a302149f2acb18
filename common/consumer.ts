/**
 * The Booking Consumer organisation a request is made for. Supplier adapters need it: the Booking Standard JWT
 * names the originating organisation, and providers filter slots by it.
 */
export interface ConsumerOrganisation {
  odsCode: string;
  name: string;
  /** The consumer's ASID when it has its own Spine accreditation; ours is used on the wire otherwise. */
  asid?: string;
}

/** Header the gateway uses to pass the consumer organisation to subgraphs (base64url JSON). */
export const CONSUMER_HEADER = 'x-consumer-organisation';

export function encodeConsumer(c: ConsumerOrganisation): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

/** Decodes and validates the header; null when absent or malformed. */
export function decodeConsumer(value: string | undefined | null): ConsumerOrganisation | null {
  if (!value) return null;
  try {
    const v = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<ConsumerOrganisation>;
    if (typeof v.odsCode !== 'string' || !/^[A-Z0-9]{2,10}$/i.test(v.odsCode) || typeof v.name !== 'string') return null;
    return { odsCode: v.odsCode.toUpperCase(), name: v.name, ...(typeof v.asid === 'string' ? { asid: v.asid } : {}) };
  } catch {
    return null;
  }
}
