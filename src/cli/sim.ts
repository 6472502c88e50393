// STUB: being implemented.
export async function runSim(argv: string[]): Promise<number> {
  process.stderr.write('not implemented: ' + argv.join(' ') + '\n');
  return 1;
}
