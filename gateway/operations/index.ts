/**
 * The gateway-owned subgraph as a schema the gateway serves in-process (LocalGraphQLDataSource). It is built like
 * any other subgraph, and runs as its own process behind another router unchanged (standalone.ts).
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { GraphQLSchema } from 'graphql';
import { subgraph } from '../../subgraphs/catalog.js';
import { DateTime } from '../../common/scalars.js';
import { subgraphTypeDefs } from '../../subgraphs/kit/schema.js';
import { idKeyFromEnv } from '../../common/slot-id.js';
import { createOperationsResolvers, type OperationsDeps } from './resolvers.js';

export const OPERATIONS_SUBGRAPH = 'bookings';

export function buildOperationsSchema(deps: OperationsDeps): GraphQLSchema {
  // Slot and appointment ids are signed (slot-id.ts): a missing or short key stops the gateway here, at start-up,
  // not at the first booking.
  idKeyFromEnv();
  const entry = subgraph(OPERATIONS_SUBGRAPH);
  return buildSubgraphSchema([
    {
      typeDefs: subgraphTypeDefs(entry.dir, entry.includes),
      resolvers: { DateTime, ...createOperationsResolvers(deps) } as unknown as GraphQLResolverMap<unknown>,
    },
  ]);
}
