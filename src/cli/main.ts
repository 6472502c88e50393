/*
 * main.ts — the `slabnet` command (Node only): dispatches subcommands.
 *   slabnet sim     a simulated LAN of boards (npm start)
 *   slabnet up      one stack on a real network via UDP-framed Ethernet
 *   slabnet bench   benchmarks (npm run bench [-- --json])
 *   slabnet budget  flash and JsVars per board, measured in Espruino's
 *                   interpreter (npm run budget; scripts/budget.js)
 *   slabnet flash   a board's bundle (and a program) into its Storage with
 *                   the espruino CLI (npm run flash; src/cli/flash.ts)
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
    case 'budget': {
      // scripts/budget.js runs the board-sized interpreters (ESPRUINO_DIR)
      const { spawnSync } = await import('node:child_process');
      const { fileURLToPath } = await import('node:url');
      const script = fileURLToPath(new URL('../../scripts/budget.js', import.meta.url));
      const r = spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit' });
      return r.status === null ? 1 : r.status;
    }
    case 'flash': {
      const m = await import('./flash');
      return m.runFlash(rest);
    }
    default:
      process.stdout.write(
        'usage: slabnet <command>\n' +
          '  sim                       simulate a LAN of boards (what `npm start` runs)\n' +
          '  up --ip A/N [--gw G] --frames udp:LPORT:RPORT [--serve echo,discard] [--pcap F] [--mac M] [--board ID]\n' +
          '                            run one stack whose Ethernet frames travel over UDP\n' +
          '  bench [--json]            run the benchmarks\n' +
          '  budget [--board ID] [--json] [--measure]\n' +
          '                            flash and JsVars per board, measured in its Espruino build\n' +
          '  flash --board ID [--port PORT] [--app FILE] [--out DIR] [--baud N] [--dry-run] [--no-run]\n' +
          '                            the board\'s bundle (Storage "slabnet") and FILE (boot code) onto a board\n' +
          '                            with the espruino CLI; without --port: writes the files, prints the command\n',
      );
      return cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}
