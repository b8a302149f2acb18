import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { bookingOperations, loggableIds } from './booking-operations.js';
import { bookingSay, outcome, type Outcome } from './booking-outcomes.js';
import type { SubgraphContext } from '../../common/context.js';
import { loadRegistry, type PasRestSystem } from './registry.js';
import { createSlotCache } from './slot-cache.js';

const registry = loadRegistry(undefined, {});
const say = { ...bookingSay, unknownSystem: (s: string) => `Supplier system ${s} is not a PAS REST system this gateway knows` };
const ctx = (consumer: SubgraphContext['consumer'] = { odsCode: 'RX8', name: 'NHS 111' }): SubgraphContext => ({ consumer, traceId: 't-1', loaders: new Map() });
const booking = {
  system: 'oakfield-pas',
  serviceId: '1403000211',
  slotRef: 'ref',
  requestId: 'r-1',
  mayHaveBooked: false,
  patient: { nhsNumber: '9000000009', family: 'Patient' },
};

function setUp(
  book: (flow: { system: PasRestSystem }) => Promise<Outcome<string, { start: string; serviceId?: string }>>,
  cancel = async () => outcome('CANCELLED', null, { appointment: { start: '2026-11-24T10:00:00Z' } as { start: string; serviceId?: string } }),
) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
  const slotCache = createSlotCache({ registry, logger: pino({ level: 'silent' }) });
  const changed = vi.spyOn(slotCache, 'slotsChanged');
  const ops = bookingOperations({
    kind: 'PAS_REST',
    registry,
    logger,
    slotCache,
    messages: say,
    flowContext: (system) => ({ system }),
    flows: {
      read: async () => outcome('FOUND', null),
      patientAppointments: async () => ({ code: 'FOUND' as const, message: null, appointments: [] }),
      book,
      cancel,
    },
    slotStart: () => new Date('2026-11-25T09:00:00Z'),
  });
  return { ops, lines, changed };
}

describe('booking operations', () => {
  it('refuse without a consumer organisation, and a system of another kind', async () => {
    const { ops } = setUp(async () => outcome('BOOKED', null));
    expect(await ops.book({}, { input: booking }, ctx(null))).toMatchObject({ code: 'FORBIDDEN', message: say.noConsumer });
    expect(await ops.book({}, { input: { ...booking, system: 'harbour-uec' } }, ctx())).toMatchObject({
      code: 'INVALID_REQUEST',
      message: say.unknownSystem('harbour-uec'),
    });
  });

  it('run the flow with the system, and invalidate the booked slot day', async () => {
    const { ops, changed } = setUp(async (flow) => outcome('BOOKED', flow.system.id));
    expect(await ops.book({}, { input: booking }, ctx())).toMatchObject({ code: 'BOOKED', message: 'oakfield-pas' });
    expect(changed).toHaveBeenCalledWith('oakfield-pas', '1403000211', new Date('2026-11-25T09:00:00Z'));
    expect(await ops.cancel({}, { input: { ...booking, appointmentRef: 'a-1' } }, ctx())).toMatchObject({ code: 'CANCELLED' });
    expect(changed).toHaveBeenLastCalledWith('oakfield-pas', '1403000211', '2026-11-24T10:00:00Z');
  });

  it("invalidate after a cancellation the service the supplier's record names, and the id's too when it differs", async () => {
    const { ops, changed } = setUp(
      async () => outcome('BOOKED', null),
      async () => outcome('CANCELLED', null, { appointment: { start: '2026-11-24T10:00:00Z', serviceId: '1403000299' } }),
    );
    expect(await ops.cancel({}, { input: { ...booking, appointmentRef: 'a-1' } }, ctx())).toMatchObject({ code: 'CANCELLED' });
    expect(changed).toHaveBeenCalledWith('oakfield-pas', '1403000299', '2026-11-24T10:00:00Z');
    expect(changed).toHaveBeenCalledWith('oakfield-pas', '1403000211', '2026-11-24T10:00:00Z');
  });

  it('turn a bug in a write into OUTCOME_UNKNOWN, logging ids and never patient data or the message', async () => {
    const { ops, lines, changed } = setUp(async () => {
      throw new Error('9000000009');
    });
    expect(await ops.book({}, { input: booking }, ctx())).toMatchObject({ code: 'OUTCOME_UNKNOWN', message: say.outcomeUnknown('oakfield-pas') });
    expect(changed).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ op: 'book', system: 'oakfield-pas', traceId: 't-1', consumer: 'RX8', requestId: 'r-1', error: 'Error' });
    expect(JSON.stringify(lines)).not.toContain('9000000009');
  });
});

describe('loggableIds', () => {
  it('keeps ids of an id shape and booleans; anything a client smuggled into an id is "[invalid]"', () => {
    expect(loggableIds({ serviceId: '1402000102', requestId: '5d9e2c1a-0b3f-5c4d-8e6f-112233445566', mayHaveBooked: true })).toEqual({
      serviceId: '1402000102',
      requestId: '5d9e2c1a-0b3f-5c4d-8e6f-112233445566',
      mayHaveBooked: true,
    });
    expect(loggableIds({ appointment: 'Jones 9476719931', serviceId: 'x\n{"level":60}', ref: 'a'.repeat(129) })).toEqual({
      appointment: '[invalid]',
      serviceId: '[invalid]',
      ref: '[invalid]',
    });
  });
});
