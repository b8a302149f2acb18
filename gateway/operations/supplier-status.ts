/**
 * The operator's view, one function for both the `supplierStatus` query and the internal port's /status.json: per
 * supplier system in the registry, what the supplier subgraph serving its kind has seen (GET
 * /internal/supplier-status, signed like every gateway request, under a short deadline). A subgraph that does not
 * answer, or answers nonsense, gives its systems as UNKNOWN; nothing fails the whole report, and no URL or error text
 * is in it. Behind a load balancer one replica answers: `reportedBy` names it.
 */
import { z } from 'zod';
import { SUBGRAPHS } from '../../subgraphs/catalog.js';
import { gatewayHeaders } from '../../common/internal-auth.js';
import type { Registry } from '../../subgraphs/kit/registry.js';
import { FAILURE_REASONS, SUPPLIER_STATUS_PATH, type FailureReason } from '../../subgraphs/kit/supplier-status.js';
import type {
  SupplierCallStats,
  SupplierCircuitState,
  SupplierHealth,
  SupplierStatusReport,
  SupplierSystemStatus,
  SupplierThrottleState,
} from './generated/resolvers.js';

export type { SupplierStatusReport } from './generated/resolvers.js';

export interface SupplierStatusDeps {
  registry: Registry;
  /** Subgraph name → its GraphQL URL (the gateway's configuration); the status path is on the same server. */
  subgraphUrls: Record<string, string>;
  internalKey: string;
  /** How long a subgraph has to answer (default 1500 ms). */
  timeoutMs?: number;
  now?: () => number;
}

const count = z.number().int().nonnegative();
const ms = z.number().int().nonnegative().nullable();
const windowSchema = z.object({
  calls: count,
  failures: count,
  errorRate: z.number().min(0).max(1).nullable(),
  p95LatencyMs: ms,
  failuresByReason: z.array(z.object({ reason: z.enum(FAILURE_REASONS), count })).max(FAILURE_REASONS.length),
  throttleWaits: count,
  throttleRefusals: count,
});
/** What a subgraph answers, checked: it is another process's output, and it reaches operators' screens. */
const processView = z.object({
  replica: z.object({ host: z.string().max(255), pid: z.number().int().nonnegative() }),
  generatedAt: z.number(),
  systems: z
    .array(
      z.object({
        system: z.string().max(200),
        lastSuccessAt: z.number().nullable(),
        lastFailureAt: z.number().nullable(),
        lastFailureReason: z.enum(FAILURE_REASONS).nullable(),
        last5Minutes: windowSchema,
        last60Minutes: windowSchema,
        minutes: z.array(z.object({ at: z.number(), calls: count, failures: count, p95LatencyMs: ms })).max(60),
        circuit: z.enum(['CLOSED', 'OPEN', 'HALF_OPEN', 'NONE']),
        qualityFlags: z.array(z.object({ flag: z.string().max(100), count })).max(100),
      }),
    )
    .max(500),
});
type ProcessView = z.output<typeof processView>;
type SystemView = ProcessView['systems'][number];

const DEFAULT_TIMEOUT_MS = 1500;
const MINUTE_MS = 60_000;

/** The supplier subgraph serving each registry kind. */
function subgraphOf(kind: string): string | undefined {
  return SUBGRAPHS.find((s) => s.books?.kinds.includes(kind) && s.remote)?.name;
}

async function askSubgraph(url: string, key: string, timeoutMs: number): Promise<ProcessView | null> {
  try {
    const target = new URL(SUPPLIER_STATUS_PATH, url).toString();
    const res = await fetch(target, {
      method: 'GET',
      headers: gatewayHeaders(null, { method: 'GET', url: target, body: '' }, undefined, key),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const parsed = processView.safeParse(await res.json());
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const EMPTY_WINDOW: SupplierCallStats = { calls: 0, failures: 0, errorRate: null, p95LatencyMs: null, failuresByReason: [], throttleWaits: 0, throttleRefusals: 0 };

function health(v: SystemView): SupplierHealth {
  const w = v.last5Minutes;
  if (v.circuit === 'OPEN' || (w.errorRate ?? 0) >= 0.5) return 'FAILING';
  if (w.failures > 0 || v.circuit === 'HALF_OPEN' || w.throttleRefusals > 0) return 'DEGRADED';
  return w.calls === 0 ? 'IDLE' : 'OK';
}

function throttleState(w: SupplierCallStats): SupplierThrottleState {
  return w.throttleRefusals > 0 ? 'REFUSING' : w.throttleWaits > 0 ? 'WAITING' : 'CLEAR';
}

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

export async function supplierStatusReport(deps: SupplierStatusDeps): Promise<SupplierStatusReport> {
  const now = (deps.now ?? Date.now)();
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const wanted = new Set(deps.registry.systems.map((s) => subgraphOf(s.kind)).filter((n): n is string => !!n && !!deps.subgraphUrls[n]));
  const answers = new Map(await Promise.all([...wanted].map(async (name) => [name, await askSubgraph(deps.subgraphUrls[name]!, deps.internalKey, timeoutMs)] as const)));

  const systems = deps.registry.systems.map((s): SupplierSystemStatus => {
    const sub = subgraphOf(s.kind);
    const view = sub ? answers.get(sub) : null;
    const base = { system: s.id, name: s.name, kind: s.kind, subgraph: sub ?? 'none' };
    if (!view) {
      return {
        ...base,
        health: 'UNKNOWN',
        reportedBy: null,
        lastSuccessAt: null,
        dataAgeSeconds: null,
        lastFailureAt: null,
        lastFailureReason: null,
        last5Minutes: EMPTY_WINDOW,
        last60Minutes: EMPTY_WINDOW,
        lastHour: [],
        circuit: 'UNKNOWN',
        throttle: { limitPerSecond: s.rateLimitPerSecond, state: 'UNKNOWN' },
        qualityFlags: [],
      };
    }
    // Answered, but this system not called yet by that replica: an idle system, its circuit closed.
    const v: SystemView = view.systems.find((x) => x.system === s.id) ?? {
      system: s.id,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastFailureReason: null,
      last5Minutes: EMPTY_WINDOW as SystemView['last5Minutes'],
      last60Minutes: EMPTY_WINDOW as SystemView['last60Minutes'],
      minutes: [],
      circuit: 'NONE',
      qualityFlags: [],
    };
    const lastHour = v.minutes.length
      ? v.minutes.map((m) => ({ ...m, at: new Date(m.at).toISOString() }))
      : Array.from({ length: 60 }, (_, i) => ({ at: new Date((Math.floor(view.generatedAt / MINUTE_MS) - 59 + i) * MINUTE_MS).toISOString(), calls: 0, failures: 0, p95LatencyMs: null }));
    return {
      ...base,
      health: health(v),
      reportedBy: view.replica,
      lastSuccessAt: iso(v.lastSuccessAt),
      dataAgeSeconds: v.lastSuccessAt === null ? null : Math.max(0, Math.round((now - v.lastSuccessAt) / 1000)),
      lastFailureAt: iso(v.lastFailureAt),
      lastFailureReason: v.lastFailureReason as FailureReason | null,
      last5Minutes: v.last5Minutes,
      last60Minutes: v.last60Minutes,
      lastHour,
      circuit: v.circuit as SupplierCircuitState,
      throttle: { limitPerSecond: s.rateLimitPerSecond, state: throttleState(v.last5Minutes) },
      qualityFlags: v.qualityFlags,
    };
  });
  return { generatedAt: new Date(now).toISOString(), systems };
}
