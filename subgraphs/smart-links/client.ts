/**
 * The SMART Scheduling Links feeds this adapter reads: one FeedReader (kit/feeds) per SMART_LINKS system in the
 * registry, created once per process so polling, validators and the last good snapshot are shared by every request.
 */
import type { Logger } from 'pino';
import { FeedReader } from '../kit/feeds/index.js';
import type { Registry } from '../kit/registry.js';

export interface SmartLinksClientOptions {
  logger?: Logger;
  /** Clock for polling decisions (tests move it). */
  now?: () => Date;
}

export class SmartLinksClient {
  private readonly readers = new Map<string, FeedReader>();

  constructor(registry: Registry, opts: SmartLinksClientOptions = {}) {
    for (const system of registry.systems) {
      if (system.kind !== 'SMART_LINKS') continue;
      this.readers.set(system.id, new FeedReader(system, { ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.now ? { now: opts.now } : {}) }));
    }
  }

  /** The reader for a registry system; undefined when it is not a SMART_LINKS system. */
  reader(systemId: string): FeedReader | undefined {
    return this.readers.get(systemId);
  }

  systemIds(): string[] {
    return [...this.readers.keys()];
  }
}
