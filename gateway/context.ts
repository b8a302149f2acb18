/** What every gateway request carries through plugins, the planner and the gateway-owned operations. */
import type { ConsumerOrganisation } from '../common/consumer.js';
import type { Principal } from './plugins/auth.js';

export interface GatewayContext {
  principal: Principal;
  /** The consumer organisation requests are made for (from the token, or the dev consumer for anonymous reads). */
  consumer: ConsumerOrganisation;
  authenticated: boolean;
  traceId: string;
  /** Who the consumer limits count this request against: `org:<ODS>` or `anon:<address>`. */
  limitKey: string;
}
