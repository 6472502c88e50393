/*
 * flags.ts — the one flag-splitting rule the `slabnet` subcommands share
 * (Node only): `--key=value` is the key and its value; anything else is
 * itself, its value (if any) the next argument, which each parser takes.
 */

/** `--key=value` → [`--key`, `value`]; any other argument → [it, undefined]. */
export function splitFlag(a: string): [string, string | undefined] {
  const eq = a.indexOf('=');
  return a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
}
