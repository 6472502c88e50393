// STUB: being implemented.
export async function runUp(argv: string[]): Promise<number> {
  process.stderr.write('not implemented: ' + argv.join(' ') + '\n');
  return 1;
}
