/**
 * One POST over node:http(s) with keep-alive, its whole answer read as text. The gateway's own subgraph calls go
 * through here rather than the global fetch: undici's fetch builds web streams, a Request and a Response for every
 * call, which cost more gateway CPU than the rest of a warm `availability` search (issue 9's profile).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
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

export class HttpPoster {
  // Sockets are kept between calls (the subgraphs keep them 65 s; free ones are closed after 30 s here first).
  private readonly http = new HttpAgent({ keepAlive: true, timeout: 30_000 });
  private readonly https = new HttpsAgent({ keepAlive: true, timeout: 30_000 });

  /**
   * POSTs `body`; rejects with DeadlineError past `deadlineMs`, with `signal`'s reason when it aborts first, or with
   * the socket's own error (refused, reset).
   */
  post(url: string, headers: Record<string, string>, body: string, deadlineMs: number, signal?: AbortSignal): Promise<PostAnswer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const payload = Buffer.from(body, 'utf8');
    return new Promise<PostAnswer>((resolve, reject) => {
      let reading = false;
      let settled = false;
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
      const req = (secure ? httpsRequest : httpRequest)(
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
          res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, text: Buffer.concat(chunks, size).toString('utf8') })));
          res.on('error', (err) => finish(() => reject(err)));
          res.on('aborted', () => finish(() => reject(new Error('answer cut short'))));
        },
      );
      const timer = setTimeout(() => {
        finish(() => reject(new DeadlineError(reading)));
        req.destroy();
      }, deadlineMs);
      req.on('error', (err) => finish(() => reject(err)));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(payload);
    });
  }

  /** Closes the kept sockets (a stopping gateway). */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
