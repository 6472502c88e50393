/*
 * config.ts — the single configuration surface (lwIP's opt.h): every pool
 * size, limit and timeout the stack uses. A stack is built from one
 * StackConfig; boards/ supply per-board overrides of these defaults.
 * Nothing here is mutated after the stack is created.
 */

export interface StackConfig {
  /* ---- skb pool (src/core/skb.ts) ---- */
  /** small skbs: one Ethernet frame each */
  skbSmallCount: number;
  /** bytes per small skb: headroom + 14 + MTU (+4 spare) */
  skbSmallSize: number;
  /** large skbs: a whole IP datagram each (reassembly, big sends) */
  skbLargeCount: number;
  /** bytes per large skb: headroom + the largest datagram accepted */
  skbLargeSize: number;
  /** bytes reserved in front of payload for headers */
  skbHeadroom: number;

  /* ---- devices, RX ring, qdisc (src/link/dev.ts) ---- */
  maxDevices: number;
  /** RX ring slots filled by netif_rx */
  rxRingSize: number;
  /** skbs handled per net_rx_action call (NAPI budget) */
  napiBudget: number;
  /** TX qdisc length per device (packets) */
  txQueueLen: number;
  /** default MTU */
  mtu: number;

  /* ---- timers (src/core/timer.ts) ---- */
  timerMax: number;
  timerSlots: number;
  timerTickMs: number;

  /* ---- ARP / neighbour (src/link/arp.ts), RFC 826 / RFC 1122 §2.3.2 ---- */
  arpTableSize: number;
  /** skbs queued per unresolved entry */
  arpQueueLen: number;
  /** requests sent before an entry fails */
  arpRetries: number;
  /** first retransmit interval, doubled each retry */
  arpRetryMs: number;
  /** REACHABLE lifetime before STALE */
  arpReachableMs: number;
  /** STALE entries older than this are reclaimed */
  arpGcStaleMs: number;
  /** how long a FAILED entry answers -EHOSTUNREACH before it may retry */
  arpFailedHoldMs: number;
  /** send a gratuitous ARP when an interface comes up */
  arpGratuitous: boolean;

  /* ---- IPv4 (src/ipv4/), RFC 791 / RFC 1122 ---- */
  ipDefaultTtl: number;
  routeTableSize: number;
  /** addresses per stack (all devices) */
  ipAddrMax: number;
  /** forward between interfaces (RFC 1812 subset) */
  ipForward: boolean;
  /** concurrent reassembly slots (each takes one large skb) */
  reasmSlots: number;
  reasmTimeoutMs: number;
  /** largest datagram reassembled (RFC 791 cap is 65535) */
  reasmMaxBytes: number;
  /** fragments per datagram */
  reasmMaxFrags: number;
  /** callbacks per netfilter hook point */
  nfHookSlots: number;

  /* ---- ICMP (src/ipv4/icmp.ts), RFC 792 / RFC 1122 §3.2.2 ---- */
  /** token bucket for generated ICMP errors: tokens per second */
  icmpRatePerSec: number;
  icmpRateBurst: number;
  icmpEchoIgnoreBroadcasts: boolean;

  /* ---- sockets (src/socket/, src/transport/) ---- */
  maxSockets: number;
  /** datagrams queued per UDP/raw socket */
  sockRcvQueueLen: number;
  /** payload bytes queued per UDP/raw socket */
  sockRcvBufBytes: number;
  ephemeralLow: number;
  ephemeralHigh: number;

  /** seed for the stack's PRNG (ISNs, IP IDs, ports, jitter) */
  seed: number;

  /* ---- TCP (src/transport/tcp/), RFC 9293 and friends ---- */
  /** TCBs (each owns one send and one receive ring) */
  tcpMaxSockets: number;
  /** bytes per send ring (SO_SNDBUF upper limit) */
  tcpSndBuf: number;
  /** bytes per receive ring (SO_RCVBUF upper limit; > 65535 needs window scaling) */
  tcpRcvBuf: number;
  /** request socks (SYN_RECV half-open connections), whole stack */
  tcpSynQueue: number;
  /** largest listen() backlog (accept queue per listener) */
  tcpAcceptQueue: number;
  /** TIME_WAIT minisocks, whole stack (full: the connection is closed at once and counted) */
  tcpTimeWaitSlots: number;
  /** maximum segment lifetime; TIME_WAIT lasts 2*MSL */
  tcpMslMs: number;
  /** RFC 6298 initial RTO, lower and upper bounds */
  tcpRtoInitMs: number;
  tcpRtoMinMs: number;
  tcpRtoMaxMs: number;
  /** delayed ACK timeout (RFC 1122 4.2.3.2: < 500 ms) */
  tcpDelAckMs: number;
  tcpSynRetries: number;
  tcpSynAckRetries: number;
  /** retransmissions of data before the connection is aborted (tcp_retries2) */
  tcpRetries2: number;
  /** orphaned FIN_WAIT2 lifetime (tcp_fin_timeout) */
  tcpFinTimeoutMs: number;
  tcpKeepIdleMs: number;
  tcpKeepIntvlMs: number;
  tcpKeepCnt: number;
  /** RFC 7323 timestamps, window scaling; RFC 2018 SACK */
  tcpTimestamps: boolean;
  tcpWindowScaling: boolean;
  tcpSack: boolean;
  /** RFC 5961 challenge ACKs per second (whole stack) */
  tcpChallengeAckLimit: number;
  /** RFC 6928 initial window in segments (capped at 14600 bytes above 2 segments) */
  tcpInitCwndSegs: number;
  /** out-of-order ranges kept per TCB (also the SACK blocks sent) and SACK scoreboard ranges */
  tcpOooRanges: number;
  /** RACK-TLP transmission records per TCB (FEATURE_TCP_RACK; one per segment in flight, 0 = RACK off:
   *  RFC 6675 DupThresh loss detection). Beyond this many segments in flight the newest record grows. */
  tcpRackSegs: number;
  /** SYN queue full: answer with a SYN cookie (RFC 4987 §3.6) instead of dropping the SYN (default on, as Linux) */
  tcpSyncookies: boolean;
}

export function defaultConfig(): StackConfig {
  return {
    skbSmallCount: 64,
    skbSmallSize: 1600,
    skbLargeCount: 4,
    skbLargeSize: 65535 + 128,
    skbHeadroom: 64,
    maxDevices: 4,
    rxRingSize: 32,
    napiBudget: 16,
    txQueueLen: 32,
    mtu: 1500,
    timerMax: 128,
    timerSlots: 256,
    timerTickMs: 10,
    arpTableSize: 16,
    arpQueueLen: 3,
    arpRetries: 3,
    arpRetryMs: 1000,
    arpReachableMs: 30000,
    arpGcStaleMs: 60000,
    arpFailedHoldMs: 3000,
    arpGratuitous: true,
    ipDefaultTtl: 64,
    routeTableSize: 8,
    ipAddrMax: 8,
    ipForward: false,
    reasmSlots: 4,
    reasmTimeoutMs: 30000,
    reasmMaxBytes: 65535,
    reasmMaxFrags: 64,
    nfHookSlots: 4,
    icmpRatePerSec: 100,
    icmpRateBurst: 50,
    icmpEchoIgnoreBroadcasts: true,
    maxSockets: 16,
    sockRcvQueueLen: 16,
    sockRcvBufBytes: 65536,
    ephemeralLow: 49152,
    ephemeralHigh: 65535,
    seed: 1,
    tcpMaxSockets: 8,
    tcpSndBuf: 16384,
    tcpRcvBuf: 16384,
    tcpSynQueue: 8,
    tcpAcceptQueue: 8,
    tcpTimeWaitSlots: 8,
    tcpMslMs: 30000,
    tcpRtoInitMs: 1000,
    tcpRtoMinMs: 200,
    tcpRtoMaxMs: 120000,
    tcpDelAckMs: 40,
    tcpSynRetries: 6,
    tcpSynAckRetries: 5,
    tcpRetries2: 15,
    tcpFinTimeoutMs: 60000,
    tcpKeepIdleMs: 7200000,
    tcpKeepIntvlMs: 75000,
    tcpKeepCnt: 9,
    tcpTimestamps: true,
    tcpWindowScaling: true,
    tcpSack: true,
    tcpChallengeAckLimit: 100,
    tcpInitCwndSegs: 10,
    tcpOooRanges: 4,
    tcpRackSegs: 64,
    tcpSyncookies: true,
  };
}

/** Defaults overridden by `over` (no spread: the Espruino bundle cannot hold one). */
export function makeConfig(over: Partial<StackConfig> | undefined): StackConfig {
  const c = defaultConfig();
  if (over !== undefined) {
    const src = over as { [k: string]: unknown };
    const dst = c as unknown as { [k: string]: unknown };
    for (const k in src) {
      if (src[k] !== undefined) dst[k] = src[k];
    }
  }
  return c;
}
