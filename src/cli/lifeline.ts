/*
 * lifeline.ts — when a long-running command (`slabnet up`, `up --board`)
 * must stop (Node only; not part of the packet path).
 *
 * It stops on SIGTERM, SIGINT or SIGHUP, and also when the process that
 * started it has gone: `npx slabnet up` runs node under npm (and a shell),
 * and a SIGTERM to npx alone ends npx without passing it on, which left
 * node running with its UDP port held and no counters printed. The parent
 * is checked every PARENT_POLL_MS (process.ppid changes when the parent
 * dies and the process is re-parented); the check timer is unref'd, so it
 * never keeps the process alive by itself.
 *
 * After the stop, the caller prints its counters and returns; a backstop
 * timer (unref'd) exits the process EXIT_BACKSTOP_MS later in case a
 * handle still holds the event loop, so nothing is ever left running.
 * A closed stdout (the reader gone with the parent) is ignored rather
 * than turned into an uncaught EPIPE.
 */

/** how often the parent is checked */
export const PARENT_POLL_MS = 200;
/** exit this long after the stop, whatever is still open */
export const EXIT_BACKSTOP_MS = 1500;

/** Why the command stopped: the signal's name, or 'PARENT' when the parent process went away. */
export type StopReason = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'PARENT';

/**
 * A promise of the stop reason. `ppid` is the parent to watch (default:
 * the current one; 1 or 0 means none, e.g. started by init or a container).
 */
export function whenToStop(ppid: number = process.ppid): Promise<StopReason> {
  return new Promise<StopReason>((resolve) => {
    let done = false;
    const watch = ppid > 1
      ? setInterval(() => {
        if (process.ppid !== ppid) finish('PARENT');
      }, PARENT_POLL_MS)
      : null;
    if (watch !== null) watch.unref();
    const onTerm = (): void => finish('SIGTERM');
    const onInt = (): void => finish('SIGINT');
    const onHup = (): void => finish('SIGHUP');
    const onOutErr = (): void => undefined; // EPIPE once the reader is gone: the counters are lost, not a crash
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
    process.stdout.on('error', onOutErr);
    function finish(why: StopReason): void {
      if (done) return;
      done = true;
      if (watch !== null) clearInterval(watch);
      // a second signal during shutdown must not kill the process with the default action
      // half-way through printing the counters: the handlers stay installed (and do nothing now)
      const backstop = setTimeout(() => process.exit(process.exitCode !== undefined ? process.exitCode : 0), EXIT_BACKSTOP_MS);
      backstop.unref();
      resolve(why);
    }
  });
}
