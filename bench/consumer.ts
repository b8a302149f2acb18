import type { ConsumerOrganisation } from '../common/consumer.js';

/**
 * Whom the bench's direct subgraph calls are made for: the organisation our gateway (and Hive Gateway, through
 * gateway/engines/hive-plugin.ts) reads as for anonymous requests (DEV_CONSUMER_ODS, DEV_CONSUMER_NAME defaults), so
 * every path sees the same slots and the same cache audience.
 */
export const BENCH_CONSUMER: ConsumerOrganisation = { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111' };
