/*
 * boards-load.js — the board list (boards/index.ts, through tsx) and the
 * fit rule, for scripts/test-espruino.js and scripts/budget.js.
 *
 * The fit rule (what `npm run budget` enforces): a board fits when its
 * bundle leaves at least FLASH_LEFT bytes of its saved-code flash, and the
 * measured peak JsVars (module + default stack + peak during the traffic,
 * scripts/espruino-run.js) leave at least JSVARS_LEFT of its JsVars for the
 * user's program, in its own board-sized build (running out of memory
 * there is not fitting, whatever a larger build measured).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** bytes of saved-code flash a fitting board leaves for the user's program */
export const FLASH_LEFT = 4096;
/** share of a board's JsVars a fitting board leaves for the user's program */
export const JSVARS_LEFT = 0.25;

export async function loadBoards(root) {
  const { register } = await import('tsx/esm/api');
  const unregister = register();
  try {
    const m = await import(pathToFileURL(join(root, 'boards', 'index.ts')).href);
    return m.BOARDS;
  } finally {
    await unregister();
  }
}

/** 'full' (TCP in) or 'tiny' (TCP compiled out): the profile a board's features give. */
export function profileOf(b) {
  return b.features && b.features.tcp === false ? 'tiny' : 'full';
}

/** sha256 of a file (to tell whether a measurement is of the current bundle). */
export function fileSha(f) {
  return createHash('sha256').update(readFileSync(f)).digest('hex');
}

/**
 * The fit of target t (bytes in t.flash, JsVars in t.jsVars) given the run
 * r ({jsvarsPeak}) and whether its own build ran out of memory.
 * Returns { fits, why, bytes, flashLeft, jsvarsLeft }.
 */
export function fitOf(t, r, ownBuildOom, root) {
  const bytes = statSync(root !== undefined ? join(root, t.file) : t.file).size;
  const flashLeft = t.flash > 0 ? t.flash - bytes : null;
  const peak = r.jsvarsPeak;
  const jsvarsLeft = t.jsVars > 0 && peak !== undefined ? t.jsVars - peak : null;
  const why = [];
  let fits = true;
  if (flashLeft !== null && flashLeft < FLASH_LEFT) {
    fits = false;
    why.push(`flash ${bytes} of ${t.flash} bytes leaves ${flashLeft} (< ${FLASH_LEFT})`);
  } else if (flashLeft !== null) why.push(`flash leaves ${flashLeft} bytes`);
  if (ownBuildOom) {
    fits = false;
    why.push(`out of memory in its own ${t.jsVars}-JsVar build`);
  }
  if (jsvarsLeft === null) {
    if (t.jsVars > 0) {
      fits = false;
      why.push('no JsVar measurement');
    }
  } else if (jsvarsLeft < JSVARS_LEFT * t.jsVars) {
    fits = false;
    why.push(`peak ${peak} of ${t.jsVars} JsVars leaves ${jsvarsLeft} (< ${Math.ceil(JSVARS_LEFT * t.jsVars)})`);
  } else why.push(`peak ${peak} of ${t.jsVars} JsVars leaves ${jsvarsLeft}`);
  return { fits, why: why.join('; '), bytes, flashLeft, jsvarsLeft };
}
