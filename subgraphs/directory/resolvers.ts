/**
 * Thin resolvers: validate, call, return mapped parent objects. Every service is mapped whole from its DoS record
 * (map.ts), so the concrete type and every directory field are already on the parent.
 */
import { ADAPTERS, type Adapter } from '../adapters.js';
import type { SubgraphContext } from '../../common/context.js';
import { DateTime } from '../../common/scalars.js';
import { feedMapper, recordMapper, type DirectoryDeps } from './deps.js';
import { guarded } from './errors.js';
import type { Resolvers } from './generated/resolvers.js';
import { validateServicesArgs } from './input.js';
import { serviceLoader } from './loaders.js';
import type { ServiceModel } from './model.js';
import { searchServices } from './search.js';

export function createResolvers(deps: DirectoryDeps): Resolvers {
  const byId = (id: string, ctx: SubgraphContext): Promise<ServiceModel | null> => serviceLoader(ctx, deps).load(id);

  return {
    DateTime,
    Query: {
      async services(_parent, args, ctx) {
        const valid = validateServicesArgs(args);
        const result = await guarded(deps.logger, () =>
          searchServices(valid, {
            client: deps.dos,
            toModel: recordMapper(deps),
            ...(deps.feeds ? { feeds: deps.feeds, toFeedModel: feedMapper(deps) } : {}),
          }),
        );
        // Later references to these services in the same request need no DoS call.
        const loader = serviceLoader(ctx, deps);
        for (const node of result.nodes) loader.prime(node.id, node);
        return result;
      },
      service: (_parent, { id }, ctx) => byId(id, ctx),
    },
    HealthcareService: {
      __resolveType: (service) => service.__typename,
    },
    // A reference resolves only to a service of that type now; a service that changed type is null, like an unknown id.
    // One service type per supplier adapter (its descriptor's directory.typename).
    ...(Object.fromEntries(
      ADAPTERS.map(({ directory: { typename } }) => [
        typename,
        {
          async __resolveReference(ref: { id: string }, ctx: SubgraphContext) {
            const service = await byId(ref.id, ctx);
            return service?.__typename === typename ? service : null;
          },
        },
      ]),
    ) as Pick<Resolvers, Adapter['directory']['typename']>),
    ReferralOnlyService: {
      async __resolveReference(ref, ctx) {
        const service = await byId(ref.id, ctx);
        return service?.__typename === 'ReferralOnlyService' ? service : null;
      },
      // A referral-only service takes referrals, not bookings: an empty answer, not an unreachable supplier.
      slots: () => ({ nodes: [], totalCount: 0, hasMore: false, fetchedAt: deps.now().toISOString() }),
      nextAvailable: () => null,
      capacity: () => {
        const now = deps.now().toISOString();
        return { freeSlots: 0, nextAvailableStart: null, fetchedAt: now, evidenceAgeSeconds: 0 };
      },
    },
  };
}
