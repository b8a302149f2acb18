/** OperationOutcome classification on the BaRS specification's own error examples (../shared/specs/bars/examples/). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { barsOrigin, classifyBarsFailure, parseOperationOutcome } from './operation-outcome.js';

const EXAMPLES = new URL('../../../../shared/specs/bars/examples/', import.meta.url);
const example = (path: string) => parseOperationOutcome(JSON.parse(readFileSync(new URL(path, EXAMPLES), 'utf8')));

describe('BaRS OperationOutcomes, as the specification\'s examples give them', () => {
  it.each([
    ['OperationOutcome/REC/409-REC_CONFLICT-conflict.json', 409, 'REC_CONFLICT', 'SLOT_UNAVAILABLE'],
    ['OperationOutcome/REC/409-REC_CONFLICT-duplicate.json', 409, 'REC_CONFLICT', 'DUPLICATE'],
    ['OperationOutcome/REC/404-REC_NOT_FOUND-not-found.json', 404, 'REC_NOT_FOUND', 'NOT_FOUND'],
    ['proxy-not-found.json', 404, 'PROXY_NOT_FOUND', 'SUPPLIER_UNAVAILABLE'],
    ['invalid-base64.json', 400, 'PROXY_BAD_REQUEST', 'SUPPLIER_UNAVAILABLE'],
    ['OperationOutcome/SEND/400-SEND_BAD_REQUEST-value.json', 400, 'SEND_BAD_REQUEST', 'SUPPLIER_UNAVAILABLE'],
    ['OperationOutcome/REC/400-REC_BAD_REQUEST-value.json', 400, 'REC_BAD_REQUEST', 'INVALID_REQUEST'],
    ['OperationOutcome/SEND/401-SEND_UNAUTHORIZED-expired.json', 401, 'SEND_UNAUTHORIZED', 'UNAUTHORIZED'],
    ['OperationOutcome/REC/403-REC_FORBIDDEN-forbidden.json', 403, 'REC_FORBIDDEN', 'FORBIDDEN'],
    ['OperationOutcome/REC/503-REC_SERVICE_UNAVAILABLE-transient.json', 503, 'REC_SERVICE_UNAVAILABLE', 'SUPPLIER_UNAVAILABLE'],
  ])('%s: %s %s is %s', (path, status, code, expected) => {
    const o = example(path);
    expect(o.code).toBe(code);
    expect(classifyBarsFailure(status, o)).toBe(expected);
  });

  it('reads the code from the details, not the issue type (the proxy examples put "400" there)', () => {
    const o = example('invalid-base64.json');
    expect(o.type).toBe('400');
    expect(barsOrigin(o.code)).toBe('PROXY');
  });

  it('a receiver refusing the patient\'s details is INVALID_PATIENT', () => {
    const o = parseOperationOutcome({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'value', details: { coding: [{ code: 'REC_BAD_REQUEST' }] }, expression: ['Patient.identifier'] }],
    });
    expect(classifyBarsFailure(400, o)).toBe('INVALID_PATIENT');
  });

  it('anything that is not an OperationOutcome parses to nothing', () => {
    expect(parseOperationOutcome({ resourceType: 'Bundle' })).toEqual({ expressions: [] });
    expect(parseOperationOutcome('<html>')).toEqual({ expressions: [] });
  });
});
