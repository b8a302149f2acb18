/**
 * What the gateway's `/graphiql/config.json` gives the IDE page (gateway/ide.ts writes it, src/main.ts reads it).
 * Types only: imported by the browser bundle and by the gateway.
 */
export interface IdeExample {
  /** Shown as the tab title (GraphiQL takes it from the operation name). */
  name: string;
  /** The operation text, as in ide/examples/<file>.graphql. */
  query: string;
}

export interface IdeConfig {
  /** The GraphQL endpoint, relative to the IDE page (`../graphql` from `/graphiql/`). */
  endpoint: string;
  mode: 'development' | 'production';
  /** False when the gateway refuses introspection (production): the page then sends none, and has no schema help. */
  introspection: boolean;
  /** Request headers prefilled in every tab: a freshly minted sandbox token in development, nothing in production. */
  headers: Record<string, string>;
  /** Preloaded as tabs, in order. */
  examples: IdeExample[];
}
