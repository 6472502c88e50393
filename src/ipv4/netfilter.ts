/*
 * netfilter.ts — the five IPv4 hook points (net/netfilter/core.c,
 * nf_hook / NF_HOOK): a fixed table of callbacks per hook, run in
 * priority order (lowest first). Packet path positions:
 *
 *   ip_rcv ─► [PRE_ROUTING] ─► route input ─► ip_local_deliver ─► [LOCAL_IN]
 *                                         └► ip_forward ─► [FORWARD] ─► [POST_ROUTING]
 *   ip_build_and_send ─► [LOCAL_OUT] ─► ip_output ─► [POST_ROUTING] ─► fragment ─► neighbour
 *
 * A hook returns NF_ACCEPT (continue), NF_DROP (the caller frees the skb
 * and counts) or NF_STOLEN (the hook took ownership of the skb).
 * Registration is configuration time; running the hooks allocates nothing.
 */
import type { Stack } from '../stack';
import { ENOSPC, EINVAL, ENOENT } from '../core/errno';

export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;
export const NF_INET_NUMHOOKS = 5;

export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NF_STOLEN = 2;

export interface NfHook {
  /** skb: data at the IP header (nh). indev/outdev: device indexes or -1. Returns a verdict. */
  hook(skb: number, hooknum: number, indev: number, outdev: number): number;
}

export class NfTable {
  readonly slots: number;
  readonly hooks: (NfHook | null)[] = [];
  readonly prio: Int32Array;
  readonly count: Int32Array;
  /** packets dropped (NF_DROP) per hook point */
  readonly drops: Float64Array;
  /** packets stolen per hook point */
  readonly stolen: Float64Array;
  constructor(slots: number) {
    this.slots = slots;
    for (let i = 0; i < NF_INET_NUMHOOKS * slots; i++) this.hooks.push(null);
    this.prio = new Int32Array(NF_INET_NUMHOOKS * slots);
    this.count = new Int32Array(NF_INET_NUMHOOKS);
    this.drops = new Float64Array(NF_INET_NUMHOOKS);
    this.stolen = new Float64Array(NF_INET_NUMHOOKS);
  }
}

/** nf_register_net_hook: insert by priority (lowest runs first). 0 or -errno. */
export function nfRegisterHook(st: Stack, hooknum: number, h: NfHook, priority: number): number {
  if (hooknum < 0 || hooknum >= NF_INET_NUMHOOKS) return -EINVAL;
  const t = st.ip.nf;
  const n = t.count[hooknum];
  if (n >= t.slots) return -ENOSPC;
  const base = hooknum * t.slots;
  let i = n;
  while (i > 0 && t.prio[base + i - 1] > priority) {
    t.hooks[base + i] = t.hooks[base + i - 1];
    t.prio[base + i] = t.prio[base + i - 1];
    i--;
  }
  t.hooks[base + i] = h;
  t.prio[base + i] = priority;
  t.count[hooknum] = n + 1;
  return 0;
}

/** nf_unregister_net_hook. 0 or -ENOENT. */
export function nfUnregisterHook(st: Stack, hooknum: number, h: NfHook): number {
  if (hooknum < 0 || hooknum >= NF_INET_NUMHOOKS) return -EINVAL;
  const t = st.ip.nf;
  const n = t.count[hooknum];
  const base = hooknum * t.slots;
  for (let i = 0; i < n; i++) {
    if (t.hooks[base + i] === h) {
      for (let j = i; j < n - 1; j++) {
        t.hooks[base + j] = t.hooks[base + j + 1];
        t.prio[base + j] = t.prio[base + j + 1];
      }
      t.hooks[base + n - 1] = null;
      t.count[hooknum] = n - 1;
      return 0;
    }
  }
  return -ENOENT;
}

/**
 * nf_hook: run the hooks of one point. Returns NF_ACCEPT, NF_DROP or
 * NF_STOLEN. Never frees the skb: on NF_DROP the caller frees and counts.
 * An unknown verdict is treated as NF_DROP.
 */
export function nfHook(st: Stack, hooknum: number, skb: number, indev: number, outdev: number): number {
  const t = st.ip.nf;
  const n = t.count[hooknum];
  if (n === 0) return NF_ACCEPT;
  const base = hooknum * t.slots;
  for (let i = 0; i < n; i++) {
    const h = t.hooks[base + i];
    if (h === null) continue;
    const v = h.hook(skb, hooknum, indev, outdev);
    if (v === NF_ACCEPT) continue;
    if (v === NF_STOLEN) {
      t.stolen[hooknum]++;
      return NF_STOLEN;
    }
    t.drops[hooknum]++;
    return NF_DROP;
  }
  return NF_ACCEPT;
}
