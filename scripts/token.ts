/**
 * `npm run token -- --org <ODS>`: prints a consumer token signed with the sandbox's dev key, for the local stack
 * and tests. Options: --name "<organisation>", --scope "<scopes>", --ttl <seconds>, --sub <client id>, --operator
 * (adds the `operator` scope: the supplierStatus query).
 */
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { ALL_SCOPES, signDevToken } from '../gateway/dev-token.js';
import { SEED_CONSUMERS } from '../sandbox/seed/services.js';

export { ALL_SCOPES };

export interface DevTokenOptions {
  org: string;
  name?: string;
  scope?: string;
  ttlSeconds?: number;
  sub?: string;
  asid?: string;
  /** Override the key, issuer or audience (tests of refusal). */
  privateJwk?: JWK;
  issuer?: string;
  audience?: string;
  /** Issue time, seconds since the epoch (tests of refusal); default now. */
  issuedAt?: number;
}

/** A dev token for an organisation, named (and given its ASID) as the sandbox's seed consumers are. */
export async function devToken(o: DevTokenOptions): Promise<string> {
  const known = SEED_CONSUMERS.find((c) => c.odsCode === o.org.toUpperCase());
  const name = o.name ?? known?.name ?? `Organisation ${o.org.toUpperCase()}`;
  const asid = o.asid ?? known?.asid;
  const { org, name: _name, asid: _asid, ...rest } = o;
  return signDevToken({ ...rest, consumer: { odsCode: org.toUpperCase(), name, ...(asid ? { asid } : {}) } });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      org: { type: 'string', default: 'RX8' },
      name: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      sub: { type: 'string' },
      operator: { type: 'boolean', default: false },
    },
  });
  const scope = values.operator ? `${values.scope ?? ALL_SCOPES} operator` : values.scope;
  const ttl = Number(values.ttl);
  if (!/^[A-Z0-9]{2,10}$/i.test(values.org) || !Number.isInteger(ttl) || ttl <= 0) {
    console.error('usage: npm run token -- --org <ODS code> [--name "<organisation>"] [--scope "<scopes>"] [--ttl <seconds>] [--operator]');
    process.exit(2);
  }
  console.log(await devToken({ org: values.org, ttlSeconds: ttl, ...(values.name ? { name: values.name } : {}), ...(scope ? { scope } : {}), ...(values.sub ? { sub: values.sub } : {}) }));
}
