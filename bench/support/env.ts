/** A benchmark setting from the environment: an integer of at least `min`, `def` when unset. */
export function envInt(name: string, def: number, min = 1): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}`);
  return v;
}
