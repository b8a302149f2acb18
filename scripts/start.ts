/**
 * `npm start`: the whole stack against the sandbox, each part its own process on its documented port
 * (override any with the environment variables in the README). Ctrl-C or SIGTERM stops them all.
 */
import { DEFAULT_PORTS, startStack, type StackPorts } from './stack.js';
import { envPort } from '../subgraphs/kit/env.js';

const ports: StackPorts = {
  gateway: envPort('GATEWAY_PORT', DEFAULT_PORTS.gateway),
  directory: envPort('DIRECTORY_PORT', DEFAULT_PORTS.directory),
  bookingStandard: envPort('BOOKING_STANDARD_PORT', DEFAULT_PORTS.bookingStandard),
  sandboxDirectory: envPort('SANDBOX_DIRECTORY_PORT', DEFAULT_PORTS.sandboxDirectory),
  sandboxBookingStandard: envPort('SANDBOX_BOOKING_STANDARD_PORT', DEFAULT_PORTS.sandboxBookingStandard),
};

let stopping = false;
try {
  const stack = await startStack({
    ports,
    inheritOutput: true,
    onUnexpectedExit: (name, code, signal) => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack.`);
      void stack.stopAll().then(() => process.exit(1));
    },
  });
  const line = (label: string, url: string) => console.log(`  ${label.padEnd(34)} ${url}`);
  console.log('\nNHS booking gateway is running against the sandbox:\n');
  line('gateway (GraphQL)', stack.gatewayUrl);
  line('gateway health', `http://127.0.0.1:${ports.gateway}/health/ready`);
  line('directory subgraph', stack.urls.directory);
  line('booking-standard subgraph', stack.urls['booking-standard']);
  line('sandbox DoS directory API', stack.urls['sandbox-directory']);
  line('sandbox Booking Standard provider', stack.urls['sandbox-booking-standard']);
  console.log('\nCtrl-C stops everything.\n');

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    void stack.stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  console.error(`Could not start the stack: ${(err as Error).message}`);
  process.exit(1);
}
