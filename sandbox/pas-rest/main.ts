/**
 * Runs the Oakfield PAS REST API simulator as its own process.
 *   SANDBOX_PAS_REST_PORT   port to listen on (default 4103)
 *   SANDBOX_PAS_REST_HOST   interface (default 127.0.0.1)
 *   SANDBOX_PAS_REST_URL    origin clients use, when it differs from the listening address (next links, Location)
 *   SANDBOX_PAS_API_KEY     the API key it accepts (default sandbox-oakfield-key)
 *   SANDBOX_PAS_RATE_LIMIT  requests per second per API key (default 20)
 */
import { envPort, runAsProcess } from '../lib/http.js';
import { startPasRestSimulator } from './server.js';

const publicOrigin = process.env['SANDBOX_PAS_REST_URL'];
const host = process.env['SANDBOX_PAS_REST_HOST'];

await runAsProcess(
  () =>
    startPasRestSimulator({
      port: envPort('SANDBOX_PAS_REST_PORT', 4103),
      ...(host ? { host } : {}),
      ...(publicOrigin ? { publicOrigin } : {}),
    }),
  'Oakfield PAS REST API simulator (oakfield-pas at /api/v2)',
);
