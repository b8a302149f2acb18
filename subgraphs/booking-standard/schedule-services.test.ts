/** Which services a provider schedule belongs to: one, several (a shared diary), or none known; bounded. */
import { describe, expect, it } from 'vitest';
import { MAX_SERVICES_PER_SCHEDULE, ScheduleServices } from './schedule-services.js';

describe('ScheduleServices', () => {
  it('names the one service of a schedule seen under one', () => {
    const m = new ScheduleServices();
    m.learn('harbour-uec', 'sch-1', 'utc');
    m.learn('harbour-uec', 'sch-1', 'utc');
    expect(m.serviceOf('harbour-uec', 'sch-1')).toBe('utc');
    expect(m.servicesOf('harbour-uec', 'sch-1')).toEqual(['utc']);
    expect(m.sharingWith('harbour-uec', 'utc')).toEqual([]);
    expect(m.serviceOf('meridian-ooh', 'sch-1')).toBeNull();
    expect(m.serviceOf('harbour-uec', null)).toBeNull();
  });

  it('a shared schedule has no one service, names every service, and pairs them', () => {
    const m = new ScheduleServices();
    m.learn('harbour-uec', 'sch-1', 'utc');
    m.learn('harbour-uec', 'sch-1', 'ed');
    m.learn('harbour-uec', 'sch-2', 'ed');
    expect(m.serviceOf('harbour-uec', 'sch-1')).toBeNull();
    expect(m.serviceOf('harbour-uec', 'sch-2')).toBe('ed');
    expect(m.servicesOf('harbour-uec', 'sch-1')).toEqual(['utc', 'ed']);
    expect(m.sharingWith('harbour-uec', 'utc')).toEqual(['ed']);
    expect(m.sharingWith('harbour-uec', 'ed')).toEqual(['utc']);
    expect(m.sharingWith('meridian-ooh', 'ed')).toEqual([]);
  });

  it('is bounded: services per schedule, and schedules in all (oldest first out)', () => {
    const wide = new ScheduleServices();
    for (let i = 0; i < MAX_SERVICES_PER_SCHEDULE + 3; i++) wide.learn('s', 'big', `svc-${i}`);
    expect(wide.servicesOf('s', 'big')).toHaveLength(MAX_SERVICES_PER_SCHEDULE);
    expect(wide.sharingWith('s', 'svc-0')).toHaveLength(MAX_SERVICES_PER_SCHEDULE - 1);
    const m = new ScheduleServices(2);
    m.learn('s', 'big', 'svc-0');
    m.learn('s', 'a', 'x');
    m.learn('s', 'b', 'y');
    expect(m.servicesOf('s', 'big')).toEqual([]);
    expect(m.serviceOf('s', 'b')).toBe('y');
  });
});
