/**
 * The base of the planned path's subgraph calls (RemoteGraphQLDataSource's fetcher, under every plugin's `fetch`):
 * a POST over node:http with keep-alive (operations/http-post.ts), not the global fetch. undici's fetch built a
 * Request, web streams and a Response per call: about a fifth of the gateway's CPU on a one-service slot query in a
 * profile. Apollo's data source posts a string body and reads status, headers and the body; that is what the answer
 * offers (TextAnswer), with the poster's bound on its size. A call of any other shape goes to the global fetch.
 */
import type { HttpPoster } from '../operations/http-post.js';
import type { SubgraphFetch } from './plugin.js';
import { QUERY_BODY } from './shared-fetches.js';
import { TextAnswer } from './text-answer.js';

/** Without a signal (the deadlines plugin always gives one), a call still ends: after this long. */
const CEILING_MS = 60_000;

export function posterFetch(poster: HttpPoster): SubgraphFetch {
  return async (url, init) => {
    if ((init.method ?? 'GET').toUpperCase() !== 'POST' || typeof init.body !== 'string') return fetch(url, init);
    const answer = await poster.post(url, plainHeaders(init.headers), init.body, CEILING_MS, {
      ...(init.signal ? { signal: init.signal } : {}),
      // A query as Apollo's data source writes one may be sent again; a mutation never.
      resendable: QUERY_BODY.test(init.body),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    return new TextAnswer({ status: answer.status, statusText: answer.statusText, headers, url }, answer.text) as unknown as Response;
  };
}

/** Request headers in any of RequestInit's shapes (Apollo passes a record; the plugins may make it Headers) as one plain record. */
export function plainHeaders(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (Array.isArray(h)) {
    for (const [name, value] of h) if (name !== undefined && value !== undefined) out[name.toLowerCase()] = value;
  } else if (typeof (h as Headers).forEach === 'function') {
    (h as Headers).forEach((value, name) => (out[name.toLowerCase()] = value));
  } else {
    for (const [name, value] of Object.entries(h as Record<string, string>)) out[name.toLowerCase()] = String(value);
  }
  return out;
}
