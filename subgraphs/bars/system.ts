/**
 * A BaRS system as the adapter's code reads it: the registry entry adapter.ts validates (its zod schema's output
 * is checked against this there).
 */
export interface BarsSystem {
  kind: 'BARS';
  id: string;
  name: string;
  deadlineMs: number;
  cacheTtlSeconds: number;
  rateLimitPerSecond: number;
  /** The FHIR base: one for every receiver; NHSD-Target-Identifier picks the receiver. */
  baseUrl: string;
  /** The OAuth 2.0 token endpoint (the client assertion's `aud`). */
  tokenUrl: string;
  clientId: string;
  keyId: string;
  /** Our private JWK (RS512), relative to the repository root or absolute. */
  privateKeyFile: string;
  requestingSoftware: { name: string; version: string; identifier: string };
  useContext: string;
}
