/**
 * The planned path's base fetch over node:http: what Apollo's data source sends arrives as sent, what it reads of
 * the answer is there, a deadline's signal ends the call and its socket, and calls of another shape use fetch.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPoster } from '../operations/http-post.js';
import { plainHeaders, posterFetch } from './poster-fetch.js';

let server: Server;
let url: string;
let seen: { method: string; headers: IncomingMessage['headers']; body: string; closed: Promise<void> }[] = [];
let answer: { status: number; body: string; hang?: boolean } = { status: 200, body: '{}' };
const poster = new HttpPoster();
const fetchOver = posterFetch(poster);

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((r) => res.once('close', () => r()));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), closed });
      if (answer.hang) return;
      res.writeHead(answer.status, 'Bad Gateway Here', { 'content-type': 'application/json', 'x-answer': 'yes' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  poster.close();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  seen = [];
  answer = { status: 200, body: '{"data":{"n":1}}' };
});

describe('posterFetch', () => {
  it('sends the body and every header as given (the plugins may pass a Headers object), and answers what the data source reads', async () => {
    const body = JSON.stringify({ query: '{ n }' });
    const res = await fetchOver(url, { method: 'POST', body, headers: new Headers({ 'Content-Type': 'application/json', 'X-Consumer': 'RX8' }) });
    expect(seen[0]).toMatchObject({ method: 'POST', body, headers: { 'content-type': 'application/json', 'x-consumer': 'RX8', 'content-length': String(body.length) } });
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('x-answer')).toBe('yes');
    // Each read parses afresh: Apollo shapes results in place.
    const a = (await res.json()) as { data: { n: number } };
    a.data.n = 2;
    expect(await res.json()).toEqual({ data: { n: 1 } });
    expect(await res.text()).toBe('{"data":{"n":1}}');
  });

  it('an error status is an answer, not a failure, with its status text', async () => {
    answer = { status: 502, body: '{"errors":[{"message":"no"}]}' };
    const res = await fetchOver(url, { method: 'POST', body: '{}', headers: [['content-type', 'application/json']] });
    expect(res.ok).toBe(false);
    expect(res.status).toBe(502);
    expect(res.statusText).toBe('Bad Gateway Here');
  });

  it("a deadline's signal ends the call with its reason and closes the socket", async () => {
    answer = { status: 200, body: '{}', hang: true };
    const call = fetchOver(url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) });
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
    await seen[0]!.closed;
    // An already aborted signal sends nothing.
    const gone = AbortSignal.abort(new Error('gone'));
    await expect(fetchOver(url, { method: 'POST', body: '{}', signal: gone })).rejects.toThrow('gone');
    expect(seen).toHaveLength(1);
  });

  it('a call of another shape (a GET, a body not a string) goes to the platform fetch', async () => {
    const res = await fetchOver(`${url}?query=%7Bn%7D`, { method: 'GET' });
    expect(res).toBeInstanceOf(Response);
    expect(seen[0]!.method).toBe('GET');
  });

  it('a kept-alive socket closed from the far end as it is reused: a query goes again on a new socket, a mutation fails', async () => {
    // A stand-in for a load balancer's idle close racing the next request: the second request on any socket finds
    // the socket destroyed, unanswered.
    const perSocket = new WeakMap<object, number>();
    const closing = createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      req.resume();
      req.on('end', () => {
        if (n > 1) req.socket.destroy();
        else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ data: { n } }));
        }
      });
    });
    await new Promise<void>((r) => closing.listen(0, '127.0.0.1', r));
    const at = `http://127.0.0.1:${(closing.address() as AddressInfo).port}/graphql`;
    const own = new HttpPoster();
    try {
      const query = JSON.stringify({ query: 'query N { n }' });
      const mutation = JSON.stringify({ query: 'mutation B { book }' });
      const via = posterFetch(own);
      const json = { 'content-type': 'application/json' };
      expect(await (await via(at, { method: 'POST', body: query, headers: json })).json()).toEqual({ data: { n: 1 } });
      // Reuses the kept socket, which breaks: sent again on a fresh one, answered there.
      expect(await (await via(at, { method: 'POST', body: query, headers: json })).json()).toEqual({ data: { n: 1 } });
      // A mutation is never sent twice: the broken socket is the caller's failure to handle.
      await expect(via(at, { method: 'POST', body: mutation, headers: json })).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      own.close();
      await new Promise<void>((r) => closing.close(() => r()));
    }
  });

  it('reads headers in every shape RequestInit allows', () => {
    expect(plainHeaders({ 'X-A': '1' })).toEqual({ 'x-a': '1' });
    expect(plainHeaders([['X-A', '1']])).toEqual({ 'x-a': '1' });
    expect(plainHeaders(new Headers({ 'X-A': '1' }))).toEqual({ 'x-a': '1' });
    expect(plainHeaders(undefined)).toEqual({});
  });
});
