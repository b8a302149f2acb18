/**
 * Which operations the gateway executes against its own subgraph alone (local-first.ts): exactly those whose every
 * field, at every depth, that subgraph serves; anything touching another subgraph, introspection or federation's own
 * fields goes through the query plan.
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { subgraph } from '../subgraphs/catalog.js';
import { subgraphTypeDefs } from '../subgraphs/kit/schema.js';
import { Decisions, answerableLocally, localFirstExecutor } from './local-first.js';
import { OPERATIONS_SUBGRAPH } from './operations/index.js';

const entry = subgraph(OPERATIONS_SUBGRAPH);
const local = buildSubgraphSchema([{ typeDefs: subgraphTypeDefs(entry.dir, entry.includes) }]);
const local_ = (q: string, op?: string) => answerableLocally(parse(q), op, local);

const AVAILABILITY = `query Soonest($s: AvailabilitySearch!) {
  availability(search: $s) { totalCount nodes { slot { id start } service { id name } distanceKm } coverage { servicesAsked } }
}`;

describe('answerableLocally', () => {
  it('takes the operations the gateway owns: availability, capacity, bookings', () => {
    expect(local_(AVAILABILITY)).toBe(true);
    expect(local_('{ capacity(serviceIds: ["1"]) { services { serviceId freeSlots } } }')).toBe(true);
    expect(local_('mutation { cancelAppointment(input: { appointmentId: "a" }) { __typename } }')).toBe(true);
    // Not valid against the subgraph either: left to the gateway, which answers the validation error as it always has.
    expect(local_('mutation { cancelAppointment(input: { appointmentId: "a", nope: 1 }) { __typename } }')).toBe(false);
  });

  it('follows fragments and inline fragments at the root, and __typename', () => {
    expect(local_('query Q { ...Root } fragment Root on Query { __typename availability(search: { types: [PHARMACY] }) { totalCount } }')).toBe(true);
    expect(local_('{ ... on Query { capacity(serviceIds: ["1"]) { coverage { servicesAsked } } } }')).toBe(true);
  });

  it('leaves to the query plan any field of another subgraph, at the root or below', () => {
    // `service` and `services` belong to the directory subgraph.
    expect(local_('{ service(id: "1") { id } }')).toBe(false);
    expect(local_('{ capacity(serviceIds: ["1"]) { coverage { servicesAsked } } service(id: "1") { id } }')).toBe(false);
    expect(local_('query Q { ...Root } fragment Root on Query { service(id: "1") { id } }')).toBe(false);
  });

  it('leaves introspection and federation fields to the gateway', () => {
    expect(local_('{ __schema { queryType { name } } }')).toBe(false);
    expect(local_('{ __type(name: "Slot") { name } }')).toBe(false);
    expect(local_('{ _service { sdl } }')).toBe(false);
    expect(local_('{ _entities(representations: []) { __typename } }')).toBe(false);
  });

  it('picks the named operation of several, and refuses an ambiguous or missing one', () => {
    const two = `${AVAILABILITY}\nquery Dir { service(id: "1") { id } }`;
    expect(local_(two, 'Soonest')).toBe(true);
    expect(local_(two, 'Dir')).toBe(false);
    expect(local_(two)).toBe(false);
    expect(local_(AVAILABILITY, 'Other')).toBe(false);
    // A name given must name an operation, "" included (graphql-js's rule): never the anonymous one.
    expect(local_('{ capacity(serviceIds: ["1"]) { services { serviceId } } }', '')).toBe(false);
    expect(new Decisions(local).answers(parse('{ __typename }'), '')).toBe(false);
  });
});

describe('localFirstExecutor', () => {
  it('keeps no decision for an operation name the document does not define', () => {
    const decisions = new Decisions(local);
    const document = parse('query Local { __typename }');
    // Unknown names go to the gateway (which refuses them) every time: none of them is remembered.
    for (let i = 0; i < 50; i++) expect(decisions.answers(document, `Nope${i}`)).toBe(false);
    expect(decisions.keptFor(document)).toBe(0);
    expect(decisions.answers(document, 'Local')).toBe(true);
    expect(decisions.answers(document, undefined)).toBe(true);
    expect(decisions.keptFor(document)).toBe(2);
  });

  it('executes a local operation against the local schema and passes the rest to the planner', async () => {
    const planned: string[] = [];
    const exec = localFirstExecutor(local, async (rc) => {
      planned.push(rc.request.operationName ?? '');
      return { data: { planned: true } };
    });
    const rc = (q: string, operationName: string) =>
      ({ document: parse(q), request: { query: q, operationName, variables: {} }, context: {} }) as unknown as Parameters<typeof exec>[0];
    expect(await exec(rc('query Local { __typename }', 'Local'))).toEqual({ data: { __typename: 'Query' } });
    expect(await exec(rc('query Remote { service(id: "1") { id } }', 'Remote'))).toEqual({ data: { planned: true } });
    expect(planned).toEqual(['Remote']);
  });
});
