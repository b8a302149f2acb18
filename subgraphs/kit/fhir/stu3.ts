/**
 * FHIR STU3 resource types (`@types/fhir`, `fhir/r3.js` under NodeNext), for the Booking Standard adapter, as a
 * supplier sends them: `Received<T>` makes every element optional all the way down, because nothing a supplier
 * sends is trusted to be complete (the adapter checks what it reads and says what it skipped).
 */
import type * as r3 from 'fhir/r3.js';

export type { r3 };

export type Received<T> = T extends readonly (infer U)[] ? Received<U>[] : T extends object ? { -readonly [K in keyof T]?: Received<T[K]> } : T;
