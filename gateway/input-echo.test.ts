import { describe, expect, it } from 'vitest';
import { withoutInputValues } from './input-echo.js';

describe('withoutInputValues', () => {
  it('a variable missing a required field: the field named, the patient not repeated', () => {
    const m = 'Variable "$input" got invalid value { patient: { nhsNumber: "9476719931", birthDate: "1984-02-29" } }; Field "clinicalHandover" of required type "ClinicalHandoverInput!" was not provided.';
    const out = withoutInputValues(m);
    expect(out).toBe('Variable "$input" got invalid value; Field "clinicalHandover" of required type "ClinicalHandoverInput!" was not provided.');
  });

  it('a scalar refusal keeps the path and the reason, not the value', () => {
    expect(withoutInputValues('Variable "$input" got invalid value 9476719931 at "input.patient.nhsNumber"; String cannot represent a non string value: 9476719931'))
      .toBe('Variable "$input" got invalid value at "input.patient.nhsNumber"; String cannot represent a non string value.');
    expect(withoutInputValues('Variable "$input" got invalid value "SECRET" at "input.patient.gender"; Value "SECRET" does not exist in "Gender" enum.'))
      .toBe('Variable "$input" got invalid value at "input.patient.gender"; The value does not exist in "Gender" enum.');
  });

  it('is not fooled by a value containing the separators', () => {
    const m = 'Variable "$input" got invalid value { patient: { family: "Jones; Field \\"x\\" at \\"y\\"", birthDate: "1984-02-29" } }; Field "clinicalHandover" of required type "H!" was not provided.';
    const out = withoutInputValues(m);
    expect(out).not.toContain('Jones');
    expect(out).not.toContain('1984');
    expect(out).toContain('Field "clinicalHandover"');
  });

  it('literal refusals in a document lose the value too', () => {
    expect(withoutInputValues('String cannot represent a non string value: 9476719931')).toBe('String cannot represent a non string value.');
    expect(withoutInputValues('Expected value of type "Gender!", found SECRETVAL; Did you mean the enum value "FEMALE"?')).toBe('Expected value of type "Gender!".');
  });

  it('leaves other messages alone', () => {
    expect(withoutInputValues('Field "I.handover" of required type "H!" was not provided.')).toBe('Field "I.handover" of required type "H!" was not provided.');
    expect(withoutInputValues('Cannot query field "x" on type "Query".')).toBe('Cannot query field "x" on type "Query".');
  });
});
