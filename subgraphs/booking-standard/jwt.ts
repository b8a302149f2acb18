/**
 * The Booking Standard's consumer JWT (spec 3.2): unsigned (`alg: none`, so the token ends with a dot), minted
 * per request, valid 300 s, naming the originating organisation. Never cached or reused across consumers.
 */
import type { ConsumerOrganisation } from '../../common/consumer.js';

export type RequestedScope = 'organization/slot.read' | 'patient/appointment.read' | 'patient/appointment.write';

export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const DEVICE_SYSTEM = 'https://fhir.nhs.uk/Id/accredited-system';

export interface JwtInput {
  /** Our Spine endpoint URL (iss). */
  issuer: string;
  /** The provider's FHIR service root (aud). */
  audience: string;
  /** Our ASID, identifying the requesting device (system). */
  consumerAsid: string;
  consumer: ConsumerOrganisation;
  scope: RequestedScope;
  nowSeconds: number;
}

export function consumerJwt(input: JwtInput): string {
  const header = { alg: 'none', typ: 'JWT' };
  const payload = {
    iss: input.issuer,
    // System-to-system: no logged-on user, so the subject is the requesting organisation's system.
    sub: `${ODS_SYSTEM}|${input.consumer.odsCode}`,
    aud: input.audience,
    iat: input.nowSeconds,
    exp: input.nowSeconds + 300,
    reason_for_request: 'directcare',
    requested_scope: input.scope,
    requesting_device: {
      resourceType: 'Device',
      identifier: [{ system: DEVICE_SYSTEM, value: input.consumerAsid }],
      model: 'NHS Booking Gateway',
      version: '0.1.0',
    },
    requesting_organization: {
      resourceType: 'Organization',
      identifier: [{ system: ODS_SYSTEM, value: input.consumer.odsCode }],
      name: input.consumer.name,
    },
  };
  return `${b64(header)}.${b64(payload)}.`;
}

function b64(v: unknown): string {
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
}
