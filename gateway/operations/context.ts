import type { ConsumerOrganisation } from '../../common/consumer.js';

/** What the gateway-owned operations receive: the gateway's request context, passed through in-process. */
export interface OperationsContext {
  /** The consumer organisation, from a verified token (or the dev consumer for anonymous reads in the sandbox). */
  consumer: ConsumerOrganisation;
  /** True when the consumer comes from a verified token. Booking operations require it. */
  authenticated: boolean;
  traceId: string;
}
