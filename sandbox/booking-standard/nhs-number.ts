/**
 * NHS number check digit (modulus 11, spec §5.5): weights 10..2 over the first nine digits; check = 11 − (sum mod 11);
 * 11 means 0, 10 means the number is invalid.
 */
export function isValidNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(value[9]);
}
