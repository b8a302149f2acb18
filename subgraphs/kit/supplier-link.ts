/**
 * A link a supplier gives us to follow (a `next` page), accepted only when it leads back to the system the registry
 * names: following it elsewhere would send our credentials (a JWT, an API key, a bearer token) to a host, or a path,
 * the registry never named. Refused links are a typed INVALID_RESPONSE, never silently ignored: an ignored `next`
 * would quietly drop the rest of a search.
 */
import { UpstreamError } from '../../common/upstream.js';

export interface LinkScope {
  /** Registry id of the system, for the error. */
  system: string;
  /** The system's base URL; relative links resolve against it. */
  baseUrl: string;
  /** Also require the link's path to stay under the base URL's path (an API mounted beside others on one host). */
  withinPath?: boolean;
}

export function supplierLink(scope: LinkScope, href: string): string {
  let target: URL;
  let base: URL;
  try {
    base = new URL(scope.baseUrl);
    target = new URL(href, scope.withinPath ? `${scope.baseUrl.replace(/\/+$/, '')}/` : scope.baseUrl);
  } catch {
    throw new UpstreamError(scope.system, 'INVALID_RESPONSE', 200, 'unreadable next link');
  }
  if (target.origin !== base.origin) throw new UpstreamError(scope.system, 'INVALID_RESPONSE', 200, 'next link leaves the supplier');
  if (scope.withinPath) {
    const basePath = base.pathname.replace(/\/+$/, '');
    if (!(target.pathname === basePath || target.pathname.startsWith(`${basePath}/`))) {
      throw new UpstreamError(scope.system, 'INVALID_RESPONSE', 200, 'next link leaves the supplier API');
    }
  }
  return target.toString();
}
