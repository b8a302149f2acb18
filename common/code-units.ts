/**
 * Text order by UTF-16 code units: what `<` compares, the same on every machine whatever its locale, and no collator
 * call per comparison (`localeCompare` is a locale's order, and slow). For sorting ids and keys, never for showing
 * names to people.
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
