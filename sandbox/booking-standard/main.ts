/**
 * Runs the Booking Standard provider simulator as its own process.
 *   SANDBOX_BOOKING_STANDARD_PORT  port to listen on (default 4102)
 *   SANDBOX_BOOKING_STANDARD_HOST  interface (default 127.0.0.1)
 *   SANDBOX_BOOKING_STANDARD_URL   origin clients use, when it differs from the listening address (the supplier
 *                                  registry builds the tenants' base URLs, and so the JWT `aud`, from the same variable)
 */
import { envPort, runAsProcess } from '../lib/http.js';
import { startBookingStandardSimulator } from './server.js';

const publicOrigin = process.env['SANDBOX_BOOKING_STANDARD_URL'];
const host = process.env['SANDBOX_BOOKING_STANDARD_HOST'];

await runAsProcess(
  () =>
    startBookingStandardSimulator({
      port: envPort('SANDBOX_BOOKING_STANDARD_PORT', 4102),
      ...(host ? { host } : {}),
      ...(publicOrigin ? { publicOrigin } : {}),
    }),
  'Booking Standard provider simulator (harbour-uec at /harbour/STU3, meridian-ooh at /meridian/fhir/STU3)',
);
