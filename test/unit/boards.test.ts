/*
 * boards.test.ts — every board's stack fits its RAM budget: the estimate
 * from the config (boards/index.ts estimateStaticRam) and a measurement of
 * a real Stack built with the board's config (all typed arrays reachable
 * from it, plus the same per-array Espruino overhead).
 */
import { describe, it, expect } from 'vitest';
import {
  BOARDS, boardConfig, estimateStaticRam, estimateStaticRamItems, findBoard, TYPED_ARRAY_OVERHEAD,
} from '../../boards/index';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { makeConfig } from '../../src/config';

/** Sum of typed-array bytes reachable from root (each buffer once) and the array count. */
function measure(root: object): { bytes: number; arrays: number } {
  const seen = new Set<unknown>();
  const buffers = new Set<ArrayBufferLike>();
  let bytes = 0;
  let arrays = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const o = stack.pop();
    if (o === null || typeof o !== 'object' || seen.has(o)) continue;
    seen.add(o);
    if (ArrayBuffer.isView(o)) {
      arrays++;
      if (!buffers.has(o.buffer)) {
        buffers.add(o.buffer);
        bytes += o.buffer.byteLength;
      }
      continue;
    }
    for (const k of Object.keys(o)) {
      if (k === 'clock') continue;
      stack.push((o as Record<string, unknown>)[k]);
    }
  }
  return { bytes, arrays };
}

describe('boards', () => {
  it('lists the host and four Espruino boards with unique ids', () => {
    const ids = BOARDS.map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('host');
    expect(ids).toContain('espruino-pico-enc28j60');
    expect(ids).toContain('espruino-wifi-w5500');
    expect(ids).toContain('espruino-original-enc28j60');
    expect(ids).toContain('espruino-esp32-w5500');
    expect(findBoard('espruino-esp32-w5500')!.features!.tcp).toBe(true);
    expect(findBoard('espruino-wifi-w5500')!.chip).toBe('w5500');
    expect(findBoard('nope')).toBeNull();
  });

  for (const b of BOARDS) {
    describe(b.id, () => {
      const cfg = boardConfig(b);

      it('has coherent hardware data', () => {
        expect(['enc28j60', 'w5500', 'host']).toContain(b.chip);
        if (b.chip !== 'host') {
          expect(b.spi).not.toBeNull();
          expect(b.spi!.baud).toBeGreaterThan(1000000);
          expect(b.csPin).toMatch(/^[A-H]\d+$/);
          expect(b.intPin).toMatch(/^[A-H]\d+$/);
          expect(b.jsVars * b.jsVarBytes).toBeLessThan(b.ramBytes);
          expect(b.stackRamBudget).toBeLessThan(b.jsVars * b.jsVarBytes);
          expect(b.codeFlashBytes).toBeLessThan(b.flashBytes);
        }
      });

      it('config is consistent (frames fit small skbs, reassembly fits large skbs)', () => {
        expect(cfg.skbSmallSize).toBeGreaterThanOrEqual(cfg.skbHeadroom + 14 + cfg.mtu);
        if (cfg.reasmSlots > 0) {
          expect(cfg.skbLargeCount).toBeGreaterThanOrEqual(cfg.reasmSlots);
          expect(cfg.skbLargeSize).toBeGreaterThanOrEqual(cfg.skbHeadroom + cfg.reasmMaxBytes);
        }
        expect(cfg.napiBudget).toBeLessThanOrEqual(cfg.rxRingSize);
      });

      it('estimated static RAM fits the budget', () => {
        const est = estimateStaticRam(cfg);
        const items = estimateStaticRamItems(cfg);
        expect(items.length).toBeGreaterThan(5);
        // the skb buffers alone are a lower bound
        expect(est).toBeGreaterThanOrEqual(cfg.skbSmallCount * cfg.skbSmallSize + cfg.skbLargeCount * cfg.skbLargeSize);
        expect(est, `${b.id}: estimate ${est} > budget ${b.stackRamBudget}`).toBeLessThanOrEqual(b.stackRamBudget);
      });

      it('a real Stack built with the board config fits the budget', () => {
        const st = new Stack(b.id, cfg, new ManualClock(0), undefined);
        const m = measure(st);
        const withOverhead = m.bytes + m.arrays * TYPED_ARRAY_OVERHEAD;
        expect(m.bytes).toBeGreaterThan(cfg.skbSmallCount * cfg.skbSmallSize);
        expect(withOverhead, `${b.id}: measured ${withOverhead} > budget ${b.stackRamBudget}`).toBeLessThanOrEqual(
          b.stackRamBudget,
        );
        expect(st.pool.inUse()).toBe(0);
      });
    });
  }

  it('the estimate grows with the pools', () => {
    const a = estimateStaticRam(makeConfig({ skbSmallCount: 4 }));
    const b = estimateStaticRam(makeConfig({ skbSmallCount: 5 }));
    expect(b - a).toBe(makeConfig(undefined).skbSmallSize + TYPED_ARRAY_OVERHEAD + 45);
  });
});
