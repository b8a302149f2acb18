/**
 * Runs the BaRS receiver simulator as its own process.
 *   SANDBOX_BARS_PORT        port to listen on (default 4105)
 *   SANDBOX_BARS_HOST        interface (default 127.0.0.1)
 *   SANDBOX_BARS_URL         origin clients use, when it differs from the listening address (token `aud`, links)
 *   SANDBOX_BARS_RATE_LIMIT  requests per second per application (default 25)
 *   SANDBOX_BARS_TOKEN_TTL   bearer token lifetime in seconds (default 599)
 */
import { envPort, runAsProcess } from '../lib/http.js';
import { DEFAULT_TOKEN_TTL_SECONDS, startBarsSimulator } from './server.js';

const publicOrigin = process.env['SANDBOX_BARS_URL'];
const host = process.env['SANDBOX_BARS_HOST'];
const ttl = Number(process.env['SANDBOX_BARS_TOKEN_TTL'] || DEFAULT_TOKEN_TTL_SECONDS);
if (!(ttl > 0)) throw new Error('SANDBOX_BARS_TOKEN_TTL must be a positive number of seconds');

await runAsProcess(
  () =>
    startBarsSimulator({
      port: envPort('SANDBOX_BARS_PORT', 4105),
      ...(host ? { host } : {}),
      ...(publicOrigin ? { publicOrigin } : {}),
      tokenTtlSeconds: ttl,
    }),
  'BaRS receiver simulator (FHIR base /booking-and-referral/FHIR/R4, token /oauth2/token)',
);
