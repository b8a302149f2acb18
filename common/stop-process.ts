import type { Logger } from 'pino';

/**
 * Stops a server process on SIGINT/SIGTERM: `close` (which drains requests in flight), then `after` (tracing,
 * sockets, Redis), then exit: 0 when `close` succeeded, 1 when it failed. Whatever fails while stopping, the process
 * still ends; it would otherwise linger with its ports closed.
 */
export function onStopSignal(logger: Logger, what: string, close: () => Promise<unknown>, after: () => Promise<unknown> | void): void {
  const stop = () => {
    void close()
      .then(
        () => 0,
        (err: unknown) => {
          logger.error({ err: (err as Error).message }, `${what} did not stop cleanly`);
          return 1;
        },
      )
      .then(async (code) => {
        try {
          await after();
        } catch {
          // Nothing left to report it to that matters more than exiting.
        }
        process.exit(code);
      });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
