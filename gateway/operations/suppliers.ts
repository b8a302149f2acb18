/**
 * Routing by data: from a supplier system id (decoded from a slot or appointment id) to the supplier subgraph that
 * serves that system's kind, and a call to its internal operation (schema/supplier-booking.graphql) over HTTP,
 * with the consumer organisation and trace id, under a deadline.
 */
import { SUBGRAPHS } from '../../subgraphs/catalog.js';
import type { ConsumerOrganisation } from '../../subgraphs/kit/consumer.js';
import { gatewayHeaders } from '../../subgraphs/kit/internal-auth.js';
import type { Registry } from '../../subgraphs/kit/registry.js';

export type SupplierOutcomeCode =
  | 'BOOKED'
  | 'CANCELLED'
  | 'FOUND'
  | 'SLOT_UNAVAILABLE'
  | 'INVALID_PATIENT'
  | 'INVALID_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'SUPPLIER_UNAVAILABLE'
  | 'OUTCOME_UNKNOWN'
  | 'NOT_SUPPORTED'
  | 'HANDOFF';

export interface SupplierAppointment {
  ref: string;
  serviceId: string;
  status: 'BOOKED' | 'CANCELLED' | 'ENTERED_IN_ERROR';
  start: string;
  end: string;
  created: string | null;
  description: string | null;
  version: string | null;
  handoverReportId: string | null;
  patient: { nhsNumber: string | null; family: string | null; given: string[]; birthDate: string | null } | null;
}

export interface SupplierOutcome {
  code: SupplierOutcomeCode;
  appointment: SupplierAppointment | null;
  message: string | null;
  diagnostics: string | null;
  handoff?: { bookingLink: string | null; bookingPhone: string | null } | null;
}

export interface SupplierAppointmentList {
  code: SupplierOutcomeCode;
  appointments: SupplierAppointment[];
  message: string | null;
}

/** The call did not produce an answer: for a booking, the supplier may or may not have acted. */
export class SupplierCallError extends Error {
  constructor(
    readonly system: string,
    readonly kind: 'UNROUTABLE' | 'UNREACHABLE' | 'FAILED',
    detail: string,
  ) {
    super(`${system}: ${kind}: ${detail}`);
    this.name = 'SupplierCallError';
  }
}

const APPOINTMENT_FIELDS = 'ref serviceId status start end created description version handoverReportId patient { nhsNumber family given birthDate }';
const OUTCOME_FIELDS = `code message diagnostics appointment { ${APPOINTMENT_FIELDS} }`;

type Operation = 'Book' | 'Cancel' | 'Appointment' | 'PatientAppointments';

const OPERATIONS: Record<Operation, { type: 'query' | 'mutation'; input: string; selection: string }> = {
  Book: { type: 'mutation', input: 'SupplierBookingInput', selection: `${OUTCOME_FIELDS} handoff { bookingLink bookingPhone }` },
  Cancel: { type: 'mutation', input: 'SupplierCancelInput', selection: OUTCOME_FIELDS },
  Appointment: { type: 'query', input: 'SupplierAppointmentInput', selection: OUTCOME_FIELDS },
  PatientAppointments: { type: 'query', input: 'SupplierPatientAppointmentsInput', selection: `code message appointments { ${APPOINTMENT_FIELDS} }` },
};

export interface CallContext {
  consumer: ConsumerOrganisation;
  traceId: string;
}

export class SupplierRouter {
  constructor(
    private readonly registry: Registry,
    /** Remote subgraph name → URL (the gateway's configuration). */
    private readonly subgraphUrls: Record<string, string>,
    private readonly timeoutMs: number,
    private readonly internalKey: string,
  ) {}

  /** Systems whose kind has a booking subgraph that holds appointments (feeds hand bookings off instead). */
  bookingSystems(): string[] {
    return this.registry.systems.filter((s) => this.route(s.id) && !this.entry(s.id)?.books?.handoffOnly).map((s) => s.id);
  }

  book(system: string, input: Record<string, unknown>, ctx: CallContext): Promise<SupplierOutcome> {
    return this.call<SupplierOutcome>(system, 'Book', input, ctx);
  }
  cancel(system: string, input: Record<string, unknown>, ctx: CallContext): Promise<SupplierOutcome> {
    return this.call<SupplierOutcome>(system, 'Cancel', input, ctx);
  }
  read(system: string, input: Record<string, unknown>, ctx: CallContext): Promise<SupplierOutcome> {
    return this.call<SupplierOutcome>(system, 'Appointment', input, ctx);
  }
  patientAppointments(system: string, input: Record<string, unknown>, ctx: CallContext): Promise<SupplierAppointmentList> {
    return this.call<SupplierAppointmentList>(system, 'PatientAppointments', input, ctx);
  }

  private entry(systemId: string) {
    const system = this.registry.system(systemId);
    return system && SUBGRAPHS.find((s) => s.books?.kinds.includes(system.kind));
  }

  private route(systemId: string): { url: string; prefix: string } | null {
    const entry = this.entry(systemId);
    const url = entry && this.subgraphUrls[entry.name];
    return entry?.books && url ? { url, prefix: entry.books.prefix } : null;
  }

  private async call<T>(system: string, op: Operation, input: Record<string, unknown>, ctx: CallContext): Promise<T> {
    const target = this.route(system);
    if (!target) throw new SupplierCallError(system, 'UNROUTABLE', 'no booking subgraph serves this system');
    const spec = OPERATIONS[op];
    const field = `${target.prefix}${op}`;
    let res: Response;
    try {
      const body = JSON.stringify({
        query: `${spec.type}($input: ${spec.input}!) { ${field}(input: $input) { ${spec.selection} } }`,
        variables: { input },
      });
      res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          // Signed over this exact body: one use, this request only.
          ...gatewayHeaders(ctx.consumer, { method: 'POST', url: target.url, body }, ctx.traceId, this.internalKey),
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SupplierCallError(system, 'UNREACHABLE', (err as Error).name);
    }
    let body: { data?: Record<string, T | null> | null; errors?: { message: string }[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new SupplierCallError(system, 'FAILED', `HTTP ${res.status}, body not JSON`);
    }
    const result = body.data?.[field];
    if (!result) throw new SupplierCallError(system, 'FAILED', `HTTP ${res.status}, ${body.errors?.length ?? 0} errors`);
    return result;
  }
}
