/**
 * The Booking Standard (FHIR STU3) Slot Provider simulator: one HTTP server hosting both provider systems of the
 * sandbox supplier registry, each under its own FHIR base:
 *   harbour-uec   <origin>/harbour/STU3          ASID 200000000101
 *   meridian-ooh  <origin>/meridian/fhir/STU3    ASID 200000000202
 * Request log and fault injection come from the shared sandbox server (/_sandbox/...); GET /_sandbox/appointments
 * lists every stored appointment version of both tenants.
 */
import type { AddressInfo } from 'node:net';
import { outcomeForStatus } from '../lib/fhir.js';
import { startSandboxServer, type SandboxServer } from '../lib/http.js';
import { gzipDeclaredResponses } from './http-edge.js';
import { createProvider, createRouter } from './router.js';
import { buildTenants, type TenantId, type TenantOptions } from './tenants.js';

export interface BookingStandardSimulatorOptions {
  port: number;
  host?: string;
  /** Clock for diaries, JWT checks and "past" slots; inject to pin a date (e.g. a clock-change day). */
  now?: () => Date;
  /**
   * Origin clients use (scheme://host:port), when it is not the listening address: behind a proxy or in a
   * container network. JWT `aud`, fullUrls, links and Location headers are built on it.
   */
  publicOrigin?: string;
  /** Per-tenant knobs: 401 instead of 403 for JWT failures, 409 vs 422 for a taken slot. */
  tenants?: Partial<Record<TenantId, TenantOptions>>;
}

export async function startBookingStandardSimulator(opts: BookingStandardSimulatorOptions): Promise<SandboxServer> {
  const now = opts.now ?? (() => new Date());
  const providers = buildTenants(opts.tenants).map((t) => createProvider(t, now));
  let origin = opts.publicOrigin?.replace(/\/$/, '');

  const server = await startSandboxServer({
    name: 'booking-standard',
    port: opts.port,
    ...(opts.host ? { host: opts.host } : {}),
    handler: createRouter({ providers, now, origin: () => origin! }),
    faultBody: (status) => outcomeForStatus(status, `Injected fault: HTTP ${status}`),
    controlRoutes: (req) =>
      // What each provider stored, every version, with the booking organisation: lets tests check the resource a
      // consumer's booking or cancellation actually left behind, not only what the consumer was told.
      req.path === '/_sandbox/appointments' && req.method === 'GET'
        ? { status: 200, body: providers.flatMap((p) => p.appointments.storedVersions()) }
        : undefined,
  });
  gzipDeclaredResponses(server.server);
  origin ??= `http://${opts.host ?? '127.0.0.1'}:${(server.server.address() as AddressInfo).port}`;
  return server;
}
