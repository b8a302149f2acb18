import { describe, expect, it } from 'vitest';
import { collapseErrors, maskError, scrub } from './errors.js';

describe('maskError', () => {
  it('hides a subgraph fetch failure behind the subgraph name, with no URL', () => {
    const masked = maskError({
      message: 'Error while fetching subquery from service "booking-standard": request to http://127.0.0.1:4002/graphql failed, reason: connect ECONNREFUSED 127.0.0.1:4002',
      extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'booking-standard', exception: { stacktrace: ['at x'] } },
    });
    expect(masked).toEqual({
      message: 'The booking-standard service is unavailable',
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'booking-standard' },
    });
  });

  it('keeps typed errors clients can act on, scrubbed, with only safe extensions', () => {
    const masked = maskError({
      message: 'Supplier system harbour-uec did not answer in time (see http://10.1.2.3:8080/x)',
      path: ['services', 'nodes', 0, 'slots'],
      extensions: { code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'harbour-uec', reason: 'TIMEOUT', stacktrace: ['at y'], serviceName: 'booking-standard' },
    });
    expect(masked.message).toBe('Supplier system harbour-uec did not answer in time (see [internal])');
    expect(masked.path).toEqual(['services', 'nodes', 0, 'slots']);
    expect(masked.extensions).toEqual({ code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'harbour-uec', reason: 'TIMEOUT' });
  });

  it('replaces anything unexpected with a generic message', () => {
    expect(maskError({ message: 'TypeError: cannot read x of undefined at /srv/app/resolvers.ts:10' })).toEqual({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });

  it("keeps the client's own operation-name mistakes readable, as a request error", () => {
    expect(maskError({ message: 'Unknown operation named "B".', extensions: { code: 'INTERNAL_SERVER_ERROR' } })).toEqual({
      message: 'Unknown operation named "B".',
      extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
    });
  });

  it('scrubs hosts and ports too', () => {
    expect(scrub('connect to localhost:6379 and 192.168.0.10:443 failed')).toBe('connect to [internal] and [internal] failed');
  });
});

describe('collapseErrors', () => {
  it('turns one outage under 25 services into one error listing every path', () => {
    const errors = Array.from({ length: 25 }, (_, i) => ({
      message: 'Supplier system harbour-uec is unavailable',
      path: ['services', 'nodes', i, 'slots'],
      extensions: { code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'harbour-uec', reason: 'UNAVAILABLE' },
    }));
    const other = { message: 'Supplier system meridian-ooh did not answer in time', path: ['services', 'nodes', 3, 'slots'],
      extensions: { code: 'SUPPLIER_UNAVAILABLE', supplierSystem: 'meridian-ooh', reason: 'TIMEOUT' } };
    const collapsed = collapseErrors([...errors, other]);
    expect(collapsed).toHaveLength(2);
    expect(collapsed[0]!.extensions).toMatchObject({ count: 25 });
    expect((collapsed[0]!.extensions!.paths as unknown[]).length).toBe(25);
    expect(collapsed[1]).toEqual(other);
  });
});
