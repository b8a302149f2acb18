/**
 * Runs the SMART Scheduling Links publisher simulator as its own process.
 *   SANDBOX_FEEDS_PORT               port to listen on (default 4104)
 *   SANDBOX_FEEDS_HOST               interface (default 127.0.0.1)
 *   SANDBOX_FEEDS_URL                origin clients use, when it differs from the listening address (the supplier
 *                                    registry builds the manifest URLs from the same variable)
 *   SANDBOX_FEEDS_MAX_AGE_SECONDS    Cache-Control max-age of the general-appointments data set (default 300);
 *                                    vaccine-clinic always answers like PrepMod (no-cache, no-store, weak ETag)
 */
import { envInt } from '../../common/env.js';
import { envPort, runAsProcess } from '../lib/http.js';
import { bundledDataSets } from './datasets.js';
import { startFeedPublisher } from './server.js';

const host = process.env['SANDBOX_FEEDS_HOST'];
const publicOrigin = process.env['SANDBOX_FEEDS_URL'];

await runAsProcess(
  () =>
    startFeedPublisher({
      port: envPort('SANDBOX_FEEDS_PORT', 4104),
      ...(host ? { host } : {}),
      ...(publicOrigin ? { publicOrigin } : {}),
      dataSets: bundledDataSets(envInt('SANDBOX_FEEDS_MAX_AGE_SECONDS', 300, 0, 86_400)),
    }),
  'SMART Scheduling Links publisher simulator (general-appointments, vaccine-clinic)',
);
