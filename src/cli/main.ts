/*
 * main.ts — the `slabnet` command (Node only): dispatches subcommands.
 *   slabnet sim     a simulated LAN of boards (npm start)
 *   slabnet up      one stack on a real network via UDP-framed Ethernet
 *   slabnet bench   benchmarks (npm run bench [-- --json])
 */
export async function main(argv: string[]): Promise<number> {
  const cmd = argv.length > 0 ? argv[0] : 'help';
  const rest = argv.slice(1);
  switch (cmd) {
    case 'sim': {
      const m = await import('./sim');
      return m.runSim(rest);
    }
    case 'up': {
      const m = await import('./up');
      return m.runUp(rest);
    }
    case 'bench': {
      const m = await import('../../bench/index');
      return m.runBench(rest);
    }
    default:
      process.stdout.write(
        'usage: slabnet <command>\n' +
          '  sim                       simulate a LAN of boards (what `npm start` runs)\n' +
          '  up --ip A/N [--gw G] --frames udp:LPORT:RPORT [--serve echo,discard] [--pcap F] [--mac M]\n' +
          '                            run one stack whose Ethernet frames travel over UDP\n' +
          '  bench [--json]            run the benchmarks\n',
      );
      return cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}
