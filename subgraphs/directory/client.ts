/**
 * The Directory of Services REST API, typed; nothing GraphQL. HTTP Basic auth with a DoS account, JSON
 * `{ success: {...} }` / `{ error: { code, message } }` envelopes. Every call goes through the kit's upstreamFetch
 * (deadline, retries for these idempotent GETs, typed UpstreamError without the URL in its message).
 *
 * Configuration (environment): DOS_API_URL (default the sandbox, http://127.0.0.1:4101), DOS_API_USER and
 * DOS_API_PASSWORD (default the sandbox account), DOS_API_DEADLINE_MS (default 2500), DOS_API_RETRIES (default 1).
 * In production (NODE_ENV=production) the first three must be set: the directory never falls back to the sandbox.
 */
import { envInt, envString, envUrl } from '../../common/env.js';
import { upstreamFetch } from '../kit/supplier-http.js';
import { parseJson, UpstreamError, type UpstreamResponse } from '../../common/upstream.js';
import { assertProductionSettings, type RequiredSetting } from '../../common/production.js';

/** The system name in UpstreamErrors and logs. */
export const DOS_SYSTEM = 'dos';
const API_PATH = '/app/controllers/api/v1.0/services';

// ---- The DoS record, as the REST API sends it --------------------------------------------------------------

export interface DosEndpoint {
  id?: number;
  order?: number;
  transport: string;
  format: string;
  interaction: string;
  businessScenario: string;
  /** `ASID:<12 digits>` for Spine-routed endpoints, `ODS:<code>` otherwise. */
  address: string;
  comment?: string | null;
  isCompressionEnabled?: boolean;
  /** The supplier system behind the endpoint, as recorded for this deployment. */
  supplierSystem?: string;
}

export interface DosCapacity {
  status: string;
  human?: string;
  hex?: string;
  updated: string;
  resetDateTime?: string | null;
}

export interface DosService {
  id: number | string;
  name: string;
  publicName?: string | null;
  odsCode?: string | null;
  serviceType: { id: number; name: string };
  address: { lines?: string[]; town?: string | null; postcode: string };
  location: { latitude: number; longitude: number };
  siteId?: string | null;
  endpoints?: DosEndpoint[] | null;
  /** Absent or null when the DoS does not report it (not updated within 24 hours). */
  capacity?: DosCapacity | null;
  attributes?: { name: string; value: unknown }[] | null;
  ageRange?: { daysFrom: number; daysTo: number }[] | null;
  /** Straight-line distance from the search point (search answers with a point only). */
  distanceKm?: number;
}

export interface DosSearchParams {
  /** Search around a postcode, or around lat/lon; neither for a search without distance. */
  postcode?: string;
  lat?: number;
  lon?: number;
  distanceKm?: number;
  serviceTypeIds?: readonly number[];
  ids?: readonly string[];
  /** 1-based. */
  page: number;
  /** At most 100. */
  pageSize: number;
}

export interface DosSearchPage {
  page: number;
  pageSize: number;
  /** Matches over all pages. */
  totalCount: number;
  services: DosService[];
  /** Where distances were measured from (the postcode's centroid, or the coordinates given); null without a point. */
  origin: { lat: number; lon: number } | null;
}

/** The DoS could not place the postcode (its documented "Invalid post code" answer). The caller's input is wrong. */
export class DosUnknownPostcodeError extends Error {
  // Deliberately does not carry the postcode: it is often the patient's, and errors end up in logs.
  constructor() {
    super('The directory does not recognise that postcode');
    this.name = 'DosUnknownPostcodeError';
  }
}

export interface DosClientConfig {
  baseUrl: string;
  user: string;
  password: string;
  /** Budget for one DoS call, retries included. */
  deadlineMs: number;
  retries: number;
}

/** The DoS API the directory uses in production: never the sandbox defaults below (checked at start-up). */
export const DIRECTORY_PRODUCTION_REQUIRED: readonly RequiredSetting[] = ['DOS_API_URL', 'DOS_API_USER', 'DOS_API_PASSWORD'];

export function dosConfigFromEnv(): DosClientConfig {
  assertProductionSettings(DIRECTORY_PRODUCTION_REQUIRED);
  return {
    baseUrl: envUrl('DOS_API_URL', 'http://127.0.0.1:4101'),
    user: envString('DOS_API_USER', 'dos-sandbox'),
    password: envString('DOS_API_PASSWORD', 'sandbox-password'),
    deadlineMs: envInt('DOS_API_DEADLINE_MS', 2500, 100, 60_000),
    retries: envInt('DOS_API_RETRIES', 1, 0, 5),
  };
}

export class DosClient {
  readonly #config: DosClientConfig;
  readonly #authorization: string;

  constructor(config: DosClientConfig) {
    this.#config = { ...config, baseUrl: config.baseUrl.replace(/\/+$/, '') };
    this.#authorization = `Basic ${Buffer.from(`${config.user}:${config.password}`, 'utf8').toString('base64')}`;
  }

  /** One service by DoS id; null when the DoS does not know it (or returns it to no one with our role). */
  async getService(id: string): Promise<DosService | null> {
    const res = await this.#get(`${API_PATH}/byServiceId/${encodeURIComponent(id)}`);
    // The DoS answers an unknown id with an empty result; a 404 is tolerated as the same thing.
    if (res.status === 404) return null;
    const success = this.#success(res);
    const services = servicesOf(success);
    return services.find((s) => String(s.id) === id) ?? null;
  }

  /** One page of a search. Unknown postcodes raise DosUnknownPostcodeError; other refusals are UpstreamErrors. */
  async search(params: DosSearchParams): Promise<DosSearchPage> {
    const q = new URLSearchParams();
    if (params.postcode !== undefined) q.set('postcode', params.postcode);
    if (params.lat !== undefined && params.lon !== undefined) {
      q.set('lat', String(params.lat));
      q.set('lon', String(params.lon));
    }
    if (params.distanceKm !== undefined) q.set('distanceKm', String(params.distanceKm));
    if (params.serviceTypeIds?.length) q.set('serviceTypeIds', params.serviceTypeIds.join(','));
    if (params.ids?.length) q.set('ids', params.ids.join(','));
    q.set('page', String(params.page));
    q.set('pageSize', String(params.pageSize));

    const res = await this.#get(`${API_PATH}/search?${q.toString()}`, params.postcode !== undefined);
    const success = this.#success(res);
    const services = servicesOf(success);
    const totalCount = success.totalCount;
    if (typeof totalCount !== 'number' || !Number.isInteger(totalCount) || totalCount < services.length) {
      throw new UpstreamError(DOS_SYSTEM, 'INVALID_RESPONSE', res.status, 'search answer without a usable totalCount');
    }
    const o = (success as { origin?: { latitude?: unknown; longitude?: unknown } | null }).origin;
    const origin = o && typeof o.latitude === 'number' && typeof o.longitude === 'number' ? { lat: o.latitude, lon: o.longitude } : null;
    return { page: params.page, pageSize: params.pageSize, totalCount, services, origin };
  }

  async #get(pathAndQuery: string, searchedPostcode = false): Promise<UpstreamResponse> {
    const res = await upstreamFetch(`${this.#config.baseUrl}${pathAndQuery}`, {
      system: DOS_SYSTEM,
      method: 'GET',
      headers: { accept: 'application/json', authorization: this.#authorization },
      deadlineMs: this.#config.deadlineMs,
      retries: this.#config.retries,
    });
    if (res.status === 400) {
      const message = errorMessage(res);
      if (searchedPostcode && /invalid post ?code/i.test(message)) throw new DosUnknownPostcodeError();
      throw new UpstreamError(DOS_SYSTEM, 'REJECTED', 400, message);
    }
    if (res.status === 401 || res.status === 403) {
      // Our DoS account was refused: a deployment problem, never the end user's.
      throw new UpstreamError(DOS_SYSTEM, 'REJECTED', res.status, 'DoS credentials were refused');
    }
    return res;
  }

  #success(res: UpstreamResponse): Record<string, unknown> {
    if (res.status !== 200) throw new UpstreamError(DOS_SYSTEM, 'REJECTED', res.status, errorMessage(res));
    const body = parseJson<{ success?: unknown }>(DOS_SYSTEM, res);
    if (!body || typeof body !== 'object' || !body.success || typeof body.success !== 'object') {
      throw new UpstreamError(DOS_SYSTEM, 'INVALID_RESPONSE', res.status, 'answer without a success envelope');
    }
    return body.success as Record<string, unknown>;
  }
}

/** The services list of a success envelope. Records are checked one by one when mapped (see map.ts). */
function servicesOf(success: Record<string, unknown>): DosService[] {
  if (!Array.isArray(success.services)) {
    throw new UpstreamError(DOS_SYSTEM, 'INVALID_RESPONSE', 200, 'answer without a services list');
  }
  return success.services as DosService[];
}

/** The DoS error message, for logs only (it may echo the query). */
function errorMessage(res: UpstreamResponse): string {
  try {
    const body = JSON.parse(res.text) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${res.status}`;
}
