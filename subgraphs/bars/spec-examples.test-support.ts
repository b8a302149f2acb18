/**
 * The BaRS specification's own examples, read where they live (../shared/specs/bars/examples/ beside the repository,
 * as sandbox/bars tests read them; provenance: NHSDigital/booking-and-referral-fhir-api, specification/examples/).
 * Test support only.
 */
import { readFileSync } from 'node:fs';

export const SPEC_EXAMPLES = new URL('../../../shared/specs/bars/examples/', import.meta.url);

export function specExample<T = any>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, SPEC_EXAMPLES), 'utf8')) as T;
}
