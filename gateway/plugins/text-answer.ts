/**
 * What Apollo's data source (RemoteGraphQLDataSource) reads of a subgraph's answer: status, headers, and the body as
 * JSON or text, once. A whole body already in hand is answered from memory; each reader gets its own object over it.
 */
export interface AnswerMeta {
  status: number;
  statusText: string;
  headers: Headers;
  url: string;
}

export class TextAnswer {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly url: string;
  readonly redirected = false;
  readonly bodyUsed = false;

  constructor(
    meta: AnswerMeta,
    private readonly body: string,
  ) {
    this.status = meta.status;
    this.ok = meta.status >= 200 && meta.status < 300;
    this.statusText = meta.statusText;
    this.headers = meta.headers;
    this.url = meta.url;
  }

  text(): Promise<string> {
    return Promise.resolve(this.body);
  }

  json(): Promise<unknown> {
    try {
      return Promise.resolve(JSON.parse(this.body));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  clone(): TextAnswer {
    return this;
  }
}
