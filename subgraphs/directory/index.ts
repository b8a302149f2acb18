/** The directory subgraph as its own process: `npx tsx subgraphs/directory/index.ts` (DIRECTORY_PORT, default 4001). */
import { envPort } from '../../common/env.js';
import { runSubgraphProcess } from '../kit/server.js';
import { startDirectorySubgraph } from './subgraph.js';

await runSubgraphProcess(() => startDirectorySubgraph({ port: envPort('DIRECTORY_PORT', 4001) }), 'directory');
