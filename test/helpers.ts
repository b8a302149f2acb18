/** Small helpers for end-to-end tests that talk to the stack over real HTTP. */

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
  raw: string;
}

export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const raw = await res.text();
  const body = JSON.parse(raw) as Omit<GraphQLResponse<T>, 'status' | 'headers' | 'raw'>;
  return { status: res.status, headers: res.headers, raw, ...body };
}

export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string[]>;
  headers: Record<string, string>;
  body: string;
  status?: number;
}

export async function sandboxRequests(sandboxUrl: string): Promise<RecordedRequest[]> {
  return (await (await fetch(`${sandboxUrl}/_sandbox/requests`)).json()) as RecordedRequest[];
}

export async function clearSandbox(sandboxUrl: string): Promise<void> {
  await fetch(`${sandboxUrl}/_sandbox/requests`, { method: 'DELETE' });
  await fetch(`${sandboxUrl}/_sandbox/faults`, { method: 'DELETE' });
}

export async function injectFault(sandboxUrl: string, fault: unknown): Promise<void> {
  const res = await fetch(`${sandboxUrl}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(fault) });
  if (!res.ok) throw new Error(`could not inject fault: ${res.status}`);
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, any>; signature: string } {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, any>,
    signature: s ?? '',
  };
}

/** Finds every string in a value, for "no internal URL anywhere in the response" checks. */
export function noInternalAddress(raw: string): boolean {
  return !/https?:\/\/|127\.0\.0\.1|localhost|ECONNREFUSED/i.test(raw);
}
