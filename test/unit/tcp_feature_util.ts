/*
 * tcp_feature_util.ts — helpers for the tests of TCP with one compile-time
 * switch off (tcp_feature_*.test.ts). Not a test file.
 */

/** The option kinds in a segment's option bytes (NOP and EOL skipped). */
export function optKinds(opts: number[]): number[] {
  const out: number[] = [];
  for (let p = 0; p < opts.length; ) {
    const k = opts[p];
    if (k === 0) break;
    if (k === 1) {
      p++;
      continue;
    }
    out.push(k);
    p += opts[p + 1] >= 2 ? opts[p + 1] : 2;
  }
  return out;
}

/** The value of option `kind` (its bytes after kind and length), or null. */
export function optValue(opts: number[], kind: number): number[] | null {
  for (let p = 0; p < opts.length; ) {
    const k = opts[p];
    if (k === 0) break;
    if (k === 1) {
      p++;
      continue;
    }
    const len = opts[p + 1] >= 2 ? opts[p + 1] : 2;
    if (k === kind) return opts.slice(p + 2, p + len);
    p += len;
  }
  return null;
}

/** A Linux SYN's options: MSS 1460, SACK-permitted, TSval 1000 TSecr 0, NOP, window scale 7. */
export const SYN_OPTS_ALL = [
  2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 1, 3, 3, 7,
];
