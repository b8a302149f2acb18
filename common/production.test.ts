import { describe, expect, it } from 'vitest';
import { PRODUCTION_REQUIRED, gatewayConfig } from '../gateway/config.js';
import { dosConfigFromEnv } from '../subgraphs/directory/client.js';
import { assertProductionSettings, missingSettings } from './production.js';

describe('settings production requires', () => {
  it('names every missing one at once, "A or B" for alternatives, and nothing outside production', () => {
    expect(missingSettings(['A', ['B', 'C'], 'D'], { A: 'x', C: 'y' })).toEqual(['D']);
    expect(missingSettings(['A', ['B', 'C']], { A: '', B: '' })).toEqual(['A', 'B or C']);
    expect(() => assertProductionSettings(['A', ['B', 'C']], { NODE_ENV: 'production' })).toThrow('in production these must be set: A, B or C');
    expect(() => assertProductionSettings(['A'], {})).not.toThrow();
  });

  it('the gateway refuses to start in production without PRODUCTION_REQUIRED, and starts with it', () => {
    expect(() => gatewayConfig({ NODE_ENV: 'production' })).toThrow(
      'in production these must be set: AUTH_ISSUER, AUTH_AUDIENCE, IDEMPOTENCY_SECRET, INTERNAL_AUTH_KEY, AUTH_PUBLIC_KEY_FILE or AUTH_JWKS_URL',
    );
    const env: NodeJS.ProcessEnv = { NODE_ENV: 'production', AUTH_JWKS_URL: 'https://issuer.invalid/jwks' };
    for (const s of PRODUCTION_REQUIRED) if (typeof s === 'string') env[s] = `${s.toLowerCase()}-value-long-enough-for-any-key-check`;
    expect(gatewayConfig(env).production).toBe(true);
  });

  it('the directory never falls back to the sandbox DoS in production', () => {
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(() => dosConfigFromEnv()).toThrow(/in production these must be set: .*DOS_API_PASSWORD/);
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
  });
});
