/**
 * "Whichever supplier runs the service": one query through the gateway answers slots from the Booking Standard,
 * the proprietary PAS and the SMART feeds; booking works the same way for the first two and hands off for feeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, startStack, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { decodeSlotId } from '../common/slot-id.js';
import { gql, sandboxRequests } from './helpers.js';

let stack: Stack;
let token: string;

const BS = '1402000102'; // St James's UTC (Harbour, Booking Standard)
const PAS = '1402000107'; // Leeds Dental Institute (Oakfield PAS)
const FEED = 'smart:smart-urgent-care:0:556'; // SMART Urgent Care Springfield, walk-in (feed)

const QUERY = /* GraphQL */ `
  query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
    services(filter: { ids: $ids }, first: 10) {
      nodes {
        __typename
        id
        name
        bookable
        supplier { id kind }
        location { town postcode lat lon }
        slots(from: $from, to: $to, first: 500) {
          totalCount
          nodes { id serviceId start end status bookable capacity bookingLink bookingPhone source fetchedAt }
        }
      }
    }
  }
`;

beforeAll(async () => {
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn', SMART_LINKS_POLL_FLOOR_SECONDS: '1' } });
  token = await devToken({ org: 'RX8' });
}, 90_000);

afterAll(async () => {
  await stack?.stopAll();
});

function window(days: number) {
  const from = new Date();
  return { from: from.toISOString(), to: new Date(from.getTime() + days * 86_400_000).toISOString() };
}

describe('one query, three supplier kinds', () => {
  it('returns slots from the Booking Standard, the PAS and a SMART feed', async () => {
    const res = await gql(stack.gatewayUrl, QUERY, { ids: [BS, PAS, FEED], ...window(14) }, { authorization: `Bearer ${token}` });
    expect(res.errors).toBeUndefined();
    const byType = Object.fromEntries(res.data!.services.nodes.map((n: { __typename: string }) => [n.__typename, n]));
    expect(Object.keys(byType).sort()).toEqual(['BookingStandardService', 'PasRestService', 'SmartLinksService']);

    expect(byType.BookingStandardService).toMatchObject({ id: BS, bookable: true, supplier: { kind: 'BOOKING_STANDARD' } });
    expect(byType.PasRestService).toMatchObject({ id: PAS, bookable: true, supplier: { id: 'oakfield-pas', kind: 'PAS_REST' } });
    expect(byType.SmartLinksService).toMatchObject({
      id: FEED,
      bookable: false,
      supplier: { id: 'smart-urgent-care', kind: 'SMART_LINKS' },
      location: { town: 'Springfield', postcode: '01101', lat: null, lon: null },
    });

    for (const service of Object.values(byType) as any[]) {
      expect(service.slots.totalCount, service.__typename).toBeGreaterThan(0);
      const starts = service.slots.nodes.map((s: { start: string }) => Date.parse(s.start));
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
      for (const slot of service.slots.nodes) {
        expect(slot.serviceId).toBe(service.id);
        expect(decodeSlotId(slot.id)?.system).toBe(service.supplier.id);
        expect(slot.status).toBe('FREE');
      }
    }
    // PAS sessions carry places left; feed slots carry where to book.
    expect(byType.PasRestService.slots.nodes.every((s: { capacity: number }) => s.capacity >= 1)).toBe(true);
    const feedSlot = byType.SmartLinksService.slots.nodes[0];
    expect(feedSlot).toMatchObject({ bookable: false, bookingLink: expect.stringMatching(/^https:\/\//) });
  });

  it('books a PAS slot through the same mutation, with the Idempotency-Key the vendor requires', async () => {
    const res = await gql(stack.gatewayUrl, QUERY, { ids: [PAS], ...window(14) }, { authorization: `Bearer ${token}` });
    const slot = res.data!.services.nodes[0].slots.nodes.at(-1);
    const booked = await gql(
      stack.gatewayUrl,
      `mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { outcome error { message field } appointment { id status serviceId supplierSystem start } } }`,
      {
        input: {
          slotId: slot.id,
          idempotencyKey: `pas-e2e-${Date.now()}`,
          patient: { nhsNumber: '9476719931', name: { family: 'Jones', given: ['Sian'] }, birthDate: '1984-02-29', gender: 'FEMALE', address: { lines: ['1 Park Row'], postcode: 'LS1 5AB' } },
          clinicalHandover: { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f61', summary: 'Dental abscess, swelling.', authorOdsCode: 'RX8' },
        },
      },
      { authorization: `Bearer ${token}` },
    );
    expect(booked.errors).toBeUndefined();
    expect(booked.data!.bookAppointment).toMatchObject({ outcome: 'BOOKED', appointment: { status: 'BOOKED', serviceId: PAS, supplierSystem: 'oakfield-pas' } });
    expect(Date.parse(booked.data!.bookAppointment.appointment.start)).toBe(Date.parse(slot.start));
    const post = (await sandboxRequests(stack.url('sandbox-pas-rest'))).find((r) => r.method === 'POST');
    expect(post?.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('hands a feed slot off to the provider: its deep link, with our referral merged in', async () => {
    const res = await gql(stack.gatewayUrl, QUERY, { ids: [FEED], ...window(14) }, { authorization: `Bearer ${token}` });
    const slot = res.data!.services.nodes[0].slots.nodes[0];
    const handed = await gql(
      stack.gatewayUrl,
      `mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { outcome appointment { id } handoff { bookingLink bookingPhone } } }`,
      {
        input: {
          slotId: slot.id,
          idempotencyKey: `feed-e2e-${Date.now()}`,
          patient: { name: { family: 'Jones', given: ['Sian'] }, birthDate: '1984-02-29', gender: 'FEMALE', address: { lines: ['1 Park Row'], postcode: 'LS1 5AB' } },
          clinicalHandover: { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f62', summary: 'Minor injury.', authorOdsCode: 'RX8' },
        },
      },
      { authorization: `Bearer ${token}` },
    );
    expect(handed.errors).toBeUndefined();
    const result = handed.data!.bookAppointment;
    expect(result.outcome).toBe('BOOK_WITH_PROVIDER');
    expect(result.appointment).toBeNull();
    const link = new URL(result.handoff.bookingLink);
    const original = new URL(slot.bookingLink);
    expect(link.origin + link.pathname).toBe(original.origin + original.pathname);
    for (const [k, v] of original.searchParams) expect(link.searchParams.get(k)).toBe(v);
    expect(link.searchParams.get('source')).toBeTruthy();
    expect(link.searchParams.get('booking-referral')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
