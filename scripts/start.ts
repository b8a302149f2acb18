/**
 * `npm start`: the whole stack against the sandbox, each part its own process on its documented port
 * (override any with the environment variables in the README). Ctrl-C or SIGTERM stops them all.
 */
import { PROCESSES, configuredPorts, startStack, type Stack } from './stack.js';

let stopping = false;
let stack: Stack | undefined;
const stopAll = (code: number) => {
  void (stack?.stopAll() ?? Promise.resolve()).then(() => process.exit(code));
};

try {
  const ports = configuredPorts();
  stack = await startStack({
    ports,
    inheritOutput: true,
    onUnexpectedExit: (name, code, signal) => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack.`);
      stopAll(1);
    },
  });
  const line = (label: string, url: string) => console.log(`  ${label.padEnd(36)} ${url}`);
  console.log('\nNHS booking gateway is running against the sandbox:\n');
  for (const p of [...PROCESSES].reverse()) line(p.label, stack.url(p.name));
  line('gateway health and metrics (internal)', `http://127.0.0.1:${ports['gateway-internal']}/health/ready`);
  console.log('\nCtrl-C stops everything.\n');

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    stopAll(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  console.error(`Could not start the stack: ${(err as Error).message}`);
  process.exit(1);
}
