/**
 * The self-hosted GraphiQL the gateway serves under /graphiql/. Everything it loads comes from the gateway
 * itself: the bundle, Monaco's workers (graphiql/setup-workers/vite turns them into same-origin files), fonts
 * (inlined in the CSS), and its settings from ./config.json (endpoint, example tabs, dev token).
 */
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './ide.css';
import { createElement, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher, type Storage } from '@graphiql/toolkit';
import type { IdeConfig } from './config.js';

/** GraphiQL's localStorage keys (namespace `graphiql:`) that hold request headers, and where in each value. */
const TABS_KEY = 'graphiql:tabState';
const HISTORY_KEYS: Record<string, string> = { 'graphiql:queries': 'queries', 'graphiql:favorites': 'favorites' };

async function loadConfig(): Promise<IdeConfig> {
  const res = await fetch('./config.json', { cache: 'no-store', headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`./config.json answered ${res.status}`);
  return (await res.json()) as IdeConfig;
}

type WithHeaders = { headers?: string | null };

/** The items of a stored value that carry headers: the tabs, or the history/favourites entries. */
function itemsIn(key: string, state: Record<string, unknown>): WithHeaders[] {
  const list = key === TABS_KEY ? state.tabs : state[HISTORY_KEYS[key] ?? ''];
  return Array.isArray(list) ? (list as WithHeaders[]) : [];
}

function rewrite(key: string, value: string, change: (item: WithHeaders) => void): string {
  try {
    const state = JSON.parse(value) as Record<string, unknown>;
    itemsIn(key, state).forEach(change);
    return JSON.stringify(state);
  } catch {
    return value;
  }
}

/**
 * localStorage with request headers kept out of it. GraphiQL leaves headers out of stored tabs
 * (shouldPersistHeaders is off), but its history stores them with every query run: a token, real or dev, would
 * sit in localStorage for anyone with the browser profile. Headers are removed from whatever GraphiQL writes;
 * what it reads back (tabs, history) gets this page load's headers, so the dev token minted for this visit
 * reaches restored tabs too.
 */
function storageWithoutHeaders(headers: string | undefined): Storage {
  const holdsHeaders = (key: string) => key === TABS_KEY || key in HISTORY_KEYS;
  return {
    getItem(key) {
      const value = localStorage.getItem(key);
      if (!value || !headers || !holdsHeaders(key)) return value;
      return rewrite(key, value, (item) => {
        if (!item.headers?.trim()) item.headers = headers;
      });
    },
    setItem(key, value) {
      localStorage.setItem(
        key,
        holdsHeaders(key)
          ? rewrite(key, value, (item) => {
              item.headers = null;
            })
          : value,
      );
    },
    removeItem: (key) => localStorage.removeItem(key),
    clear() {
      for (const key of Object.keys(localStorage)) if (key.startsWith('graphiql:')) localStorage.removeItem(key);
    },
    get length() {
      return Object.keys(localStorage).filter((k) => k.startsWith('graphiql:')).length;
    },
  };
}

async function main(): Promise<void> {
  const container = document.getElementById('graphiql');
  if (!container) throw new Error('no #graphiql element');
  let config: IdeConfig;
  try {
    config = await loadConfig();
  } catch (err) {
    container.className = 'ide-error';
    container.textContent = `The IDE could not load its settings (${(err as Error).message}). Reload the page; if it persists, check the gateway's log.`;
    throw err;
  }
  const headers = Object.keys(config.headers).length > 0 ? JSON.stringify(config.headers, null, 2) : undefined;
  const fetcher = createGraphiQLFetcher({ url: new URL(config.endpoint, document.baseURI).href });
  container.className = '';
  container.textContent = '';
  createRoot(container).render(
    createElement(
      StrictMode,
      null,
      createElement(
        GraphiQL,
        {
          fetcher,
          ...(config.examples.length > 0
            ? { defaultTabs: config.examples.map((e) => ({ query: e.query, ...(headers ? { headers } : {}) })) }
            : {}),
          ...(headers ? { defaultHeaders: headers } : {}),
          // Show the headers: in development they hold the prefilled token, and it should not be a surprise.
          defaultEditorToolsVisibility: headers ? 'headers' : false,
          // Headers (tokens) never go to localStorage, and the setting that would store them is hidden.
          shouldPersistHeaders: false,
          showPersistHeadersSettings: false,
          storage: storageWithoutHeaders(headers),
          // null: no introspection request (the gateway would refuse it); queries still run.
          ...(config.introspection ? {} : { schema: null }),
        },
        createElement(GraphiQL.Logo, null, config.mode === 'development' ? 'NHS booking gateway (sandbox)' : 'NHS booking gateway'),
      ),
    ),
  );
}

void main();
