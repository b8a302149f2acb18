/**
 * Thin resolvers. The slot fields come from kit/slot-windows.ts, exactly as every supplier adapter's do (window
 * rules, per-request batching); this file supplies the spans. A SmartLinksService's id names a feed location and
 * service type (`smart:<system>:<location>:<code>`, kit/feeds/service-id.ts), `supplier { id }` (part of the entity's
 * key, so the directory's representation carries it) the registry system whose feed holds it. Slots come from that feed's shared snapshot, which a
 * background poller keeps fresh within the publisher's cache rules (kit/feeds/shared.ts): a request never waits for
 * a poll. A feed that has never been read is a typed supplier error; a stale one still answers, labelled `CACHE`
 * with its true `fetchedAt` and marked stale.
 *
 * smartLinksBook answers HANDOFF: the slot is booked on the provider's side, through its deep link (with our
 * referral parameters) or by phone. The booking input carries patient details; they are neither stored nor logged.
 */
import type { Logger } from 'pino';
import type { SubgraphContext } from '../../common/context.js';
import type { FeedSnapshot } from '../kit/feeds/index.js';
import type { Registry } from '../kit/registry.js';
import { registryDeadlines, slotFetchError, slotFields, type SlotWindow, type WindowSlots } from '../kit/slot-windows.js';
import { UpstreamError } from '../../common/upstream.js';
import type { SmartLinksClient } from './client.js';
import type { Resolvers, SupplierOutcome, SupplierOutcomeCode } from './generated/resolvers.js';
import { referralLink } from './handoff.js';
import { isOffered, type SlotModel } from './map.js';

export interface Deps {
  registry: Registry;
  client: SmartLinksClient;
  logger: Logger;
  /** Our product id, sent to booking portals as the deep link's `source`. */
  referralSource: string;
  now?: () => Date;
}

const say = {
  noConsumer: 'No consumer organisation: call through the gateway',
  unknownSystem: (s: string) => `Supplier system ${s} is not a SMART Scheduling Links feed this gateway knows`,
  gone: 'The slot is no longer offered in the provider\'s feed; search again for a free slot',
  noChannel: 'The provider publishes no booking link or phone number for this slot',
  unavailable: (s: string) => `The feed of supplier system ${s} could not be read; nothing was handed off`,
  handoff: 'Book this slot on the provider\'s own site or by phone; nothing has been booked yet',
  handoffGeneric:
    'Book on the provider\'s own site or by phone; nothing has been booked yet. The link opens the provider\'s booking page, not this slot: choose the time there',
};

function outcome(code: SupplierOutcomeCode, message: string, handoff: SupplierOutcome['handoff'] = null): SupplierOutcome {
  return { code, message, appointment: null, diagnostics: null, handoff };
}

export function createResolvers(deps: Deps): Resolvers {
  const now = deps.now ?? (() => new Date());

  const slotFieldResolvers = slotFields<SlotModel>({
    deadlineMs: registryDeadlines(deps.registry),
    name: 'smart-links:slots',
    now,
    fetchSpans: (spans) => spans.map(fetchSpan),
    toError: slotFetchError(deps.logger, 'feed read'),
  });

  /**
   * One span of one service: its offered slots in the window, from the feed's shared snapshot (client.ts: never
   * waits for a poll; `fetchedAt` the snapshot's fetch time, `stale` when the last poll failed or it is too old).
   */
  function fetchSpan(w: SlotWindow): Promise<WindowSlots<SlotModel>> {
    return deps.client.windowSlots(w);
  }

  return {
    HealthcareService: {
      __resolveType: () => 'SmartLinksService',
    },
    SmartLinksService: {
      __resolveReference: (ref) => ref,
      slots: (parent, args, ctx) => slotFieldResolvers.slots(parent, args, ctx),
      nextAvailable: (parent, args, ctx) => slotFieldResolvers.nextAvailable(parent, args, ctx),
      capacity: (parent, args, ctx) => slotFieldResolvers.capacity(parent, args, ctx),
    },
    Query: {
      smartLinksTopSlots: (_root, args, ctx) => slotFieldResolvers.topSlots(args.input, ctx),
    },
    Mutation: {
      async smartLinksBook(_root, { input }, ctx: SubgraphContext) {
        if (!ctx.consumer) return outcome('FORBIDDEN', say.noConsumer);
        const system = deps.registry.system(input.system);
        if (!system || system.kind !== 'SMART_LINKS' || !deps.client.reader(system.id)) return outcome('INVALID_REQUEST', say.unknownSystem(input.system));
        // Ids and the outcome only: the input's patient and handover are not for this adapter (nor its logs).
        const log = deps.logger.child({ op: 'book', system: system.id, serviceId: input.serviceId, requestId: input.requestId, traceId: ctx.traceId });

        let snapshot: FeedSnapshot;
        try {
          snapshot = await deps.client.reader(system.id)!.snapshot();
        } catch (err) {
          log.warn({ outcome: 'SUPPLIER_UNAVAILABLE', reason: err instanceof UpstreamError ? err.reason : 'unexpected' }, 'hand-off');
          return outcome('SUPPLIER_UNAVAILABLE', say.unavailable(system.id));
        }
        const slot = snapshot.slotsByService.get(input.serviceId)?.find((s) => s.id === input.slotRef);
        if (!slot || !isOffered(slot) || Date.parse(slot.end) <= now().getTime()) {
          log.info({ outcome: 'SLOT_UNAVAILABLE', found: !!slot }, 'hand-off');
          return outcome('SLOT_UNAVAILABLE', say.gone);
        }
        const bookingLink = referralLink(slot.bookingLink, deps.referralSource, input.requestId);
        if (!bookingLink && !slot.bookingPhone) {
          log.info({ outcome: 'SLOT_UNAVAILABLE', reason: 'no booking channel' }, 'hand-off');
          return outcome('SLOT_UNAVAILABLE', say.noChannel);
        }
        log.info({ outcome: 'HANDOFF', link: !!bookingLink, phone: !!slot.bookingPhone, stale: !!snapshot.stale }, 'hand-off');
        return outcome('HANDOFF', bookingLink && slot.bookingLinkGeneric ? say.handoffGeneric : say.handoff, {
          bookingLink,
          bookingPhone: slot.bookingPhone,
        });
      },
    },
  };
}
