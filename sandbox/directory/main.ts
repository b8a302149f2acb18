/** The sandbox directory (DoS-style API) as its own process: `npx tsx sandbox/directory/main.ts`. */
import { envPort, runAsProcess } from '../lib/http.js';
import { startDirectorySimulator } from './server.js';

await runAsProcess(() => startDirectorySimulator({ port: envPort('SANDBOX_DIRECTORY_PORT', 4101) }), 'sandbox directory (DoS API)');
