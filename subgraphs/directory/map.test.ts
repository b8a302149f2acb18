import { describe, expect, it } from 'vitest';
import { SERVICE_TYPES } from '../../sandbox/seed/services.js';
import type { DosService } from './client.js';
import recorded from './fixtures/dos-responses.json' with { type: 'json' };
import {
  DOS_SERVICE_TYPE_ID,
  dosTypeIdsFor,
  isBookingRequired,
  selectBookingEndpoint,
  toCapacityStatus,
  toServiceModel,
  type MapContext,
  type SupplierLookup,
} from './map.js';
import type { ServiceModel } from './model.js';

const NOW = new Date(recorded.recordedAt);
const records = [...recorded.search.success.services, ...recorded.byServiceId.success.services] as DosService[];
const record = (id: number): DosService => structuredClone(records.find((r) => r.id === id)!);

// The registry as this deployment has it: two Booking Standard systems and a PAS.
const suppliers: SupplierLookup = (id) =>
  ({
    'harbour-uec': { id: 'harbour-uec', kind: 'BOOKING_STANDARD', name: 'Harbour UEC Booking' },
    'meridian-ooh': { id: 'meridian-ooh', kind: 'BOOKING_STANDARD', name: 'Meridian Out-of-Hours' },
    'oakfield-pas': { id: 'oakfield-pas', kind: 'PAS_REST', name: 'Oakfield PAS' },
  })[id] as ReturnType<SupplierLookup>;
const ctx: MapContext = { suppliers, now: NOW };
const noSuppliers: MapContext = { suppliers: () => undefined, now: NOW };

function mapped(r: DosService, c: MapContext = ctx): ServiceModel {
  const result = toServiceModel(r, c);
  if (!result.ok) throw new Error(`expected a service, got: ${result.reason}`);
  return result.service;
}

describe('toServiceModel on recorded DoS records', () => {
  it('maps a Booking Standard ED with every directory field', () => {
    expect(mapped(record(1402000101))).toEqual({
      __typename: 'BookingStandardService',
      id: '1402000101',
      name: "St James's University Hospital Emergency Department",
      odsCode: 'RR813',
      serviceType: 'EMERGENCY_DEPARTMENT',
      serviceTypeName: 'Emergency Department',
      location: {
        siteId: 'site-ls9-sjuh',
        addressLines: ['Beckett Street'],
        town: 'Leeds',
        postcode: 'LS9 7TF',
        lat: 53.8073,
        lon: -1.5205,
      },
      bookable: true,
      bookingRequired: false,
      supplier: { id: 'harbour-uec', kind: 'BOOKING_STANDARD', name: 'Harbour UEC Booking' },
      capacityStatus: { rag: 'AMBER', setAt: '2026-03-10T11:25:00.000Z', ageMinutes: 35, resetAt: '2026-03-10T14:50:00.000Z' },
    });
  });

  it('picks the Scheduling endpoint whatever its position (the ITK handover endpoint is listed first)', () => {
    const r = record(1402000103);
    expect(r.endpoints?.[0]?.transport).toBe('itk');
    const s = mapped(r);
    expect(s.__typename).toBe('BookingStandardService');
    expect(s.supplier?.id).toBe('meridian-ooh');
    expect(s.bookingRequired).toBe(true);
  });

  it('makes a service on a supplier system missing from the registry referral-only, with no supplier', () => {
    const s = mapped(record(1402000107), noSuppliers);
    expect(s).toMatchObject({ __typename: 'ReferralOnlyService', bookable: false, supplier: null, bookingRequired: true });
  });

  it('makes a service booked through a PAS system a bookable PasRestService', () => {
    const s = mapped(record(1402000107));
    expect(s).toMatchObject({ __typename: 'PasRestService', bookable: true });
    expect(s.supplier).toEqual({ id: 'oakfield-pas', kind: 'PAS_REST', name: 'Oakfield PAS' });
  });

  it('keeps the supplier of a registry system of a kind DoS endpoints cannot name (a feed), but not bookable', () => {
    const feedKind: MapContext = { suppliers: (id) => (id === 'oakfield-pas' ? { id, kind: 'SMART_LINKS', name: 'A feed' } : undefined), now: NOW };
    const s = mapped(record(1402000107), feedKind);
    expect(s).toMatchObject({ __typename: 'ReferralOnlyService', bookable: false, supplier: { id: 'oakfield-pas', kind: 'SMART_LINKS' } });
  });

  it('makes a service with no booking endpoint referral-only', () => {
    expect(mapped(record(1402000109))).toMatchObject({ __typename: 'ReferralOnlyService', supplier: null, serviceType: 'PHARMACY' });
  });

  it('makes a Booking Standard service referral-only when the registry does not list its system', () => {
    expect(mapped(record(1402000101), noSuppliers).__typename).toBe('ReferralOnlyService');
  });

  it('has no capacity status when the DoS reports none (not set within 24 hours)', () => {
    const r = record(1404000308);
    expect(r.capacity).toBeNull();
    expect(mapped(r).capacityStatus).toBeNull();
  });

  it('refuses records it cannot represent, with a reason', () => {
    const unknownType = { ...record(1402000109), serviceType: { id: 100, name: 'GP Practice' } };
    expect(toServiceModel(unknownType, ctx)).toEqual({ ok: false, reason: expect.stringContaining('service type 100') });
    const noLocation = { ...record(1402000109), location: {} } as unknown as DosService;
    expect(toServiceModel(noLocation, ctx).ok).toBe(false);
    expect(toServiceModel({ ...record(1402000109), id: 'abc' }, ctx).ok).toBe(false);
  });

  it('gives a service without a site id its own site, and blank ODS codes become null', () => {
    const s = mapped({ ...record(1402000109), siteId: null, odsCode: ' ' });
    expect(s.location.siteId).toBe('dos-service-1402000109');
    expect(s.odsCode).toBeNull();
  });
});

describe('selectBookingEndpoint (UEC consumer assurance C1, C5 to C8)', () => {
  const booking = { transport: 'http', format: 'FHIR', interaction: 'Scheduling', businessScenario: 'Primary', address: 'ASID:200000000101' };
  const itk = { transport: 'itk', format: 'CDA', interaction: 'urn:nhs-itk:interaction:x', businessScenario: 'Primary', address: 'ODS:X' };

  it('finds none, one, or too many', () => {
    expect(selectBookingEndpoint(null)).toEqual({ kind: 'none' });
    expect(selectBookingEndpoint([itk])).toEqual({ kind: 'none' });
    expect(selectBookingEndpoint([itk, booking])).toEqual({ kind: 'one', endpoint: booking });
    expect(selectBookingEndpoint([booking, { ...booking, address: 'ASID:200000000202' }])).toEqual({ kind: 'ambiguous', count: 2 });
  });

  it('makes a service with two booking endpoints referral-only', () => {
    const r = record(1402000101);
    r.endpoints = [...(r.endpoints ?? []), { ...booking, supplierSystem: 'meridian-ooh' }];
    expect(mapped(r)).toMatchObject({ __typename: 'ReferralOnlyService', supplier: null });
  });
});

describe('isBookingRequired (the DoS requirebooking attribute)', () => {
  it('is true only when present and true', () => {
    expect(isBookingRequired([{ name: 'requirebooking', value: true }])).toBe(true);
    expect(isBookingRequired([{ name: 'RequireBooking', value: 'True' }])).toBe(true);
    expect(isBookingRequired([{ name: 'requirebooking', value: false }])).toBe(false);
    expect(isBookingRequired([{ name: 'somethingelse', value: true }])).toBe(false);
    expect(isBookingRequired(undefined)).toBe(false);
  });
});

describe('toCapacityStatus', () => {
  const set = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();

  it('gives the age in whole minutes and no reset time for green', () => {
    expect(toCapacityStatus({ status: 'GREEN', updated: set(90.5), resetDateTime: null }, NOW)).toEqual({
      rag: 'GREEN',
      setAt: set(90.5),
      ageMinutes: 90,
      resetAt: null,
    });
  });

  it('drops a status set more than 24 hours ago even if the DoS sent it', () => {
    expect(toCapacityStatus({ status: 'RED', updated: set(24 * 60 + 1) }, NOW)).toBeNull();
    expect(toCapacityStatus({ status: 'RED', updated: set(24 * 60) }, NOW)?.rag).toBe('RED');
  });

  it('drops statuses it cannot read rather than guess', () => {
    expect(toCapacityStatus({ status: 'PURPLE', updated: set(1) }, NOW)).toBeNull();
    // No offset: GMT or BST?
    expect(toCapacityStatus({ status: 'RED', updated: '2026-03-10T11:00:00' }, NOW)).toBeNull();
    expect(toCapacityStatus({ status: 'RED', updated: 'yesterday' }, NOW)).toBeNull();
  });

  it('reads other offsets and the lower-case status the Capacity Status API accepts', () => {
    expect(toCapacityStatus({ status: 'amber', updated: '2026-03-10T12:30:00+01:00', resetDateTime: '2026-03-10T13:00:00Z' }, NOW)).toEqual({
      rag: 'AMBER',
      setAt: '2026-03-10T11:30:00.000Z',
      ageMinutes: 30,
      resetAt: '2026-03-10T13:00:00.000Z',
    });
  });

  it('never reports a negative age when the DoS clock runs ahead of ours', () => {
    expect(toCapacityStatus({ status: 'GREEN', updated: set(-2) }, NOW)?.ageMinutes).toBe(0);
  });
});

describe('service types', () => {
  it('use the DoS ids the seed uses', () => {
    const seedIds = Object.fromEntries(Object.entries(SERVICE_TYPES).map(([code, t]) => [code, t.id]));
    expect(seedIds).toEqual({
      ED: DOS_SERVICE_TYPE_ID.EMERGENCY_DEPARTMENT,
      UTC: DOS_SERVICE_TYPE_ID.URGENT_TREATMENT_CENTRE,
      MIU: DOS_SERVICE_TYPE_ID.MINOR_INJURY_UNIT,
      GP_OOH: DOS_SERVICE_TYPE_ID.GP_OUT_OF_HOURS,
      DENTAL: DOS_SERVICE_TYPE_ID.URGENT_DENTAL,
      PHARMACY: DOS_SERVICE_TYPE_ID.PHARMACY,
    });
  });

  it('search all exposed types when none are asked for', () => {
    expect(dosTypeIdsFor(null)).toEqual([13, 20, 25, 40, 105, 130]);
    expect(dosTypeIdsFor(['PHARMACY', 'EMERGENCY_DEPARTMENT', 'PHARMACY'])).toEqual([13, 40]);
  });
});
