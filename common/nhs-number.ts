/**
 * NHS number check (modulus 11): weights 10 down to 2 over the first nine digits; the check digit is 11 minus the
 * remainder, 11 meaning 0 and 10 meaning no valid number. Spaces and dashes as people type them are allowed.
 * Numbers of one repeated digit pass the arithmetic but are never issued, so they are refused too.
 * (The sandbox provider checks independently, so a bug here cannot hide behind the same bug there.)
 */
export function normaliseNhsNumber(value: string): string | null {
  if (value.length > 20) return null;
  const digits = value.replace(/[\s-]/g, '');
  if (!/^\d{10}$/.test(digits)) return null;
  // 0000000000, 1111111111...: the check digit works out for these, yet none is ever issued (placeholders, test data
  // typed in a hurry). Refused, so a placeholder never books as a real patient.
  if (/^(\d)\1{9}$/.test(digits)) return null;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return null;
  return (check === 11 ? 0 : check) === Number(digits[9]) ? digits : null;
}
