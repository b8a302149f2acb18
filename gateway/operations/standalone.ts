/**
 * The gateway-owned operations as their own subgraph process, beside a router that is not our gateway:
 * `npx tsx gateway/operations/standalone.ts` (OPERATIONS_PORT, default 4005). See standalone-subgraph.ts.
 */
import { envPort } from '../../common/env.js';
import { runSubgraphProcess } from '../../subgraphs/kit/server.js';
import { OPERATIONS_SUBGRAPH } from './index.js';
import { OPERATIONS_LISTEN, startOperationsSubgraph } from './standalone-subgraph.js';

await runSubgraphProcess(() => startOperationsSubgraph({ port: envPort(OPERATIONS_LISTEN.portEnv, OPERATIONS_LISTEN.defaultPort) }), OPERATIONS_SUBGRAPH);
