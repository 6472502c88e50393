/*
 * poll_loop.ts — the event loop of `slabnet up` (src/cli/up.ts) and
 * `slabnet up --board` (src/cli/up_board.ts), Node only: a tick right
 * after each received datagram (setImmediate, coalesced) and a timer armed
 * for the stack's next timer expiry (capped at MAX_SLEEP_MS). Each tick
 * runs the stack, then the application's work; work that did something
 * (replies went out) runs the stack again and asks for another tick soon,
 * in case a NAPI budget was used up.
 */

/** What one tick runs (the source stack or a bundle's, through these calls). */
export interface PollLoopHooks {
  /** st.poll() */
  poll(): void;
  /** st.timers.nextExpiry(): ms on the stack's clock, < 0 when none */
  nextExpiry(): number;
  /** the stack's clock */
  now(): number;
  /** the services and clients; > 0 when they did something */
  work(): number;
  /** after the stack and the work (reports, pcap flushes) */
  after(): void;
}

export interface PollLoop {
  /** run a tick soon (a driver's receive callback) */
  schedule(): void;
  /** no more ticks */
  stop(): void;
}

const MAX_SLEEP_MS = 50;

/** Start the loop with one tick now. */
export function startPollLoop(h: PollLoopHooks): PollLoop {
  let immediate: NodeJS.Immediate | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopping = false;
  const tick = (): void => {
    immediate = null;
    if (stopping) return;
    h.poll();
    if (h.work() > 0) {
      // replies went out; run again soon in case a budget was used up
      h.poll();
      schedule();
    }
    h.after();
    armTimer();
  };
  const armTimer = (): void => {
    if (timer !== null) clearTimeout(timer);
    const next = h.nextExpiry();
    let wait = MAX_SLEEP_MS;
    if (next >= 0) wait = Math.max(1, Math.min(MAX_SLEEP_MS, Math.ceil(next - h.now())));
    timer = setTimeout(tick, wait);
  };
  const schedule = (): void => {
    if (immediate === null && !stopping) immediate = setImmediate(tick);
  };
  tick();
  return {
    schedule,
    stop(): void {
      stopping = true;
      if (immediate !== null) clearImmediate(immediate);
      if (timer !== null) clearTimeout(timer);
      immediate = null;
      timer = null;
    },
  };
}
