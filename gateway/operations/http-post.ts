/**
 * One POST over node:http(s) with keep-alive, its whole answer read as text. The gateway's own subgraph calls go
 * through here rather than the global fetch: undici's fetch builds web streams, a Request and a Response for every
 * call, which cost more gateway CPU than the rest of a warm `availability` search (issue 9's profile).
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** The answer had not arrived (or not all of it) when the deadline passed. */
export class DeadlineError extends Error {
  constructor(readonly whileReading: boolean) {
    super(whileReading ? 'deadline passed while reading the answer' : 'deadline passed');
    this.name = 'TimeoutError';
  }
}

export interface PostAnswer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  text: string;
}

/** A bound on what one answer may hold: a subgraph answer far past this is not one we asked for. */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** How a call may be made. */
export interface PostOptions {
  /** Ends the call with its reason (the deadlines plugin's timeout). */
  signal?: AbortSignal;
  /**
   * The request may be sent twice without effect (a query): a kept-alive socket the far end closed just as it was
   * reused (reset before any answer) is then retried once on a new socket, as undici does for idempotent requests.
   * Never for a mutation: a booking whose socket broke may have been read.
   */
  resendable?: boolean;
}

/**
 * Free sockets are kept this long: under the idle close of anything that may stand between the gateway and a
 * subgraph (HAProxy closes a kept-alive client connection after `timeout http-request` when `timeout
 * http-keep-alive` is unset, 10 s in our configuration; cloud load balancers 60 s), so a socket is rarely closed
 * from the far end while it waits here. undici's own default is 4 s.
 */
const FREE_SOCKET_MS = 4_000;

export class HttpPoster {
  private readonly http = new HttpAgent({ keepAlive: true, timeout: FREE_SOCKET_MS });
  private readonly https = new HttpsAgent({ keepAlive: true, timeout: FREE_SOCKET_MS });

  /**
   * POSTs `body`; rejects with DeadlineError past `deadlineMs`, with the signal's reason when it aborts first, or with
   * the socket's own error (refused, reset).
   */
  post(url: string, headers: Record<string, string>, body: string, deadlineMs: number, opts: PostOptions = {}): Promise<PostAnswer> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const payload = Buffer.from(body, 'utf8');
    return new Promise<PostAnswer>((resolve, reject) => {
      let reading = false;
      let settled = false;
      let req: ClientRequest;
      const onAbort = () => {
        finish(() => reject(signal!.reason));
        req.destroy();
      };
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        f();
      };
      const send = (retry: boolean) => {
        req = (secure ? httpsRequest : httpRequest)(
          target,
          { method: 'POST', agent: secure ? this.https : this.http, headers: { ...headers, 'content-length': String(payload.length) } },
          (res) => {
            reading = true;
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > MAX_ANSWER_BYTES) {
                req.destroy();
                finish(() => reject(new Error('answer too large')));
                return;
              }
              chunks.push(c);
            });
            res.on('end', () =>
              finish(() => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, text: Buffer.concat(chunks, size).toString('utf8') })),
            );
            res.on('error', (err) => finish(() => reject(err)));
            res.on('aborted', () => finish(() => reject(new Error('answer cut short'))));
          },
        );
        const sent = req;
        sent.on('error', (err: NodeJS.ErrnoException) => {
          // A kept-alive socket closed from the far end as it was reused: nothing was answered, so a query goes again.
          if (retry && opts.resendable && sent.reusedSocket && !reading && !settled && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) send(false);
          else finish(() => reject(err));
        });
        sent.end(payload);
      };
      const timer = setTimeout(() => {
        finish(() => reject(new DeadlineError(reading)));
        req.destroy();
      }, deadlineMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      send(true);
    });
  }

  /** Closes the kept sockets (a stopping gateway). */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
