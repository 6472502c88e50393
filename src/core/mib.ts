/*
 * mib.ts — Linux-style SNMP counters (/proc/net/snmp, /proc/net/netstat
 * names), one Float64Array per block, indexed by the constants below.
 * Incrementing is `stack.mib.ip[IP_INRECEIVES]++`: no allocation.
 * Only the dump helpers (for printing) allocate.
 *
 * Each block's size is its *_COUNT constant, not the length of its names
 * array: with FEATURE_MIB_NAMES off (src/features.ts) the name arrays are
 * not referenced and the minifier drops them. Adding a counter: its name at
 * the END of the list, its index constant, and bump the block's *_COUNT
 * (test/unit/mib.test.ts checks that they agree).
 */
import { FEATURE_MIB_NAMES } from '../features';

export class MibBlock {
  readonly v: Float64Array;
  /**
   * The counter names (index i is v[i]), or null when FEATURE_MIB_NAMES is
   * off (small Espruino boards): the counters are all there, at the same
   * indexes, but go by the generic names nameOf(i) = "c" + i.
   */
  readonly names: string[] | null;
  /** count: the number of counters (a *_COUNT constant, never names.length). */
  constructor(
    readonly name: string,
    names: string[] | null,
    count: number,
  ) {
    this.names = names;
    this.v = new Float64Array(count);
  }
  /** The name of counter i: names[i], or "c" + i without names. */
  nameOf(i: number): string {
    const n = this.names;
    return n !== null && i < n.length ? n[i] : 'c' + i;
  }
  /** Snapshot as a plain object (allocates: for reports and tests). */
  toObject(): { [k: string]: number } {
    const o: { [k: string]: number } = {};
    for (let i = 0; i < this.v.length; i++) o[this.nameOf(i)] = this.v[i];
    return o;
  }
  /** Counter value by name (nameOf: "c3" without names), -1 when unknown. */
  get(name: string): number {
    for (let i = 0; i < this.v.length; i++) if (this.nameOf(i) === name) return this.v[i];
    return -1;
  }
}

/* ---- Ip: (RFC 4293 / Linux IPSTATS_MIB_*) ---- */
export const IP_NAMES = [
  'InReceives', 'InHdrErrors', 'InAddrErrors', 'ForwDatagrams', 'InUnknownProtos', 'InDiscards',
  'InDelivers', 'OutRequests', 'OutDiscards', 'OutNoRoutes', 'ReasmTimeout', 'ReasmReqds',
  'ReasmOKs', 'ReasmFails', 'FragOKs', 'FragFails', 'FragCreates', 'InTruncatedPkts',
  'InCsumErrors', 'ReasmOverlaps', 'OutForwDatagrams',
];
export const IP_INRECEIVES = 0;
export const IP_INHDRERRORS = 1;
export const IP_INADDRERRORS = 2;
export const IP_FORWDATAGRAMS = 3;
export const IP_INUNKNOWNPROTOS = 4;
export const IP_INDISCARDS = 5;
export const IP_INDELIVERS = 6;
export const IP_OUTREQUESTS = 7;
export const IP_OUTDISCARDS = 8;
export const IP_OUTNOROUTES = 9;
export const IP_REASMTIMEOUT = 10;
export const IP_REASMREQDS = 11;
export const IP_REASMOKS = 12;
export const IP_REASMFAILS = 13;
export const IP_FRAGOKS = 14;
export const IP_FRAGFAILS = 15;
export const IP_FRAGCREATES = 16;
export const IP_INTRUNCATEDPKTS = 17;
export const IP_INCSUMERRORS = 18;
export const IP_REASMOVERLAPS = 19;
export const IP_OUTFORWDATAGRAMS = 20;
export const IP_COUNT = IP_OUTFORWDATAGRAMS + 1;

/* ---- Icmp: ---- */
export const ICMP_NAMES = [
  'InMsgs', 'InErrors', 'InCsumErrors', 'InDestUnreachs', 'InTimeExcds', 'InParmProbs',
  'InSrcQuenchs', 'InRedirects', 'InEchos', 'InEchoReps', 'InTimestamps', 'InTimestampReps',
  'OutMsgs', 'OutErrors', 'OutDestUnreachs', 'OutTimeExcds', 'OutParmProbs', 'OutEchos',
  'OutEchoReps', 'OutRateLimitGlobal', 'InUnknownTypes',
];
export const ICMP_INMSGS = 0;
export const ICMP_INERRORS = 1;
export const ICMP_INCSUMERRORS = 2;
export const ICMP_INDESTUNREACHS = 3;
export const ICMP_INTIMEEXCDS = 4;
export const ICMP_INPARMPROBS = 5;
export const ICMP_INSRCQUENCHS = 6;
export const ICMP_INREDIRECTS = 7;
export const ICMP_INECHOS = 8;
export const ICMP_INECHOREPS = 9;
export const ICMP_INTIMESTAMPS = 10;
export const ICMP_INTIMESTAMPREPS = 11;
export const ICMP_OUTMSGS = 12;
export const ICMP_OUTERRORS = 13;
export const ICMP_OUTDESTUNREACHS = 14;
export const ICMP_OUTTIMEEXCDS = 15;
export const ICMP_OUTPARMPROBS = 16;
export const ICMP_OUTECHOS = 17;
export const ICMP_OUTECHOREPS = 18;
export const ICMP_OUTRATELIMITGLOBAL = 19;
export const ICMP_INUNKNOWNTYPES = 20;
export const ICMP_COUNT = ICMP_INUNKNOWNTYPES + 1;

/* ---- Udp: ---- */
export const UDP_NAMES = [
  'InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams', 'RcvbufErrors', 'SndbufErrors',
  'InCsumErrors', 'IgnoredMulti', 'MemErrors',
];
export const UDP_INDATAGRAMS = 0;
export const UDP_NOPORTS = 1;
export const UDP_INERRORS = 2;
export const UDP_OUTDATAGRAMS = 3;
export const UDP_RCVBUFERRORS = 4;
export const UDP_SNDBUFERRORS = 5;
export const UDP_INCSUMERRORS = 6;
export const UDP_IGNOREDMULTI = 7;
export const UDP_MEMERRORS = 8;
export const UDP_COUNT = UDP_MEMERRORS + 1;

/* ---- Link: Ethernet, ARP/neighbour, RX ring, qdisc (slabnet's own names) ---- */
export const LINK_NAMES = [
  'RxFrames', 'RxRunts', 'RxNotForUs', 'RxUnknownType', 'RxRingOverruns', 'RxNoSkb',
  'TxFrames', 'TxQdiscDrops', 'TxNoSkb', 'ArpInRequests', 'ArpInReplies', 'ArpInErrors',
  'ArpOutRequests', 'ArpOutReplies', 'ArpUnsolicitedIgnored', 'ArpNotForUs', 'ArpQueueDrops',
  'ArpResolveFailed', 'ArpTableFull', 'ArpGratuitousOut', 'TxNoNeigh', 'TxTooBig', 'ArpConflicts', 'RxTooBig',
];
export const LINK_RXFRAMES = 0;
export const LINK_RXRUNTS = 1;
export const LINK_RXNOTFORUS = 2;
export const LINK_RXUNKNOWNTYPE = 3;
export const LINK_RXRINGOVERRUNS = 4;
export const LINK_RXNOSKB = 5;
export const LINK_TXFRAMES = 6;
export const LINK_TXQDISCDROPS = 7;
export const LINK_TXNOSKB = 8;
export const LINK_ARPINREQUESTS = 9;
export const LINK_ARPINREPLIES = 10;
export const LINK_ARPINERRORS = 11;
export const LINK_ARPOUTREQUESTS = 12;
export const LINK_ARPOUTREPLIES = 13;
export const LINK_ARPUNSOLICITEDIGNORED = 14;
export const LINK_ARPNOTFORUS = 15;
export const LINK_ARPQUEUEDROPS = 16;
export const LINK_ARPRESOLVEFAILED = 17;
export const LINK_ARPTABLEFULL = 18;
export const LINK_ARPGRATUITOUSOUT = 19;
export const LINK_TXNONEIGH = 20;
export const LINK_TXTOOBIG = 21;
/** ARP from another host claiming one of our addresses (RFC 5227 conflict), dropped */
export const LINK_ARPCONFLICTS = 22;
export const LINK_RXTOOBIG = 23;
export const LINK_COUNT = LINK_RXTOOBIG + 1;

/* ---- Raw: ---- */
export const RAW_NAMES = ['InDatagrams', 'OutDatagrams', 'RcvbufErrors', 'InErrors', 'OutErrors'];
export const RAW_INDATAGRAMS = 0;
export const RAW_OUTDATAGRAMS = 1;
export const RAW_RCVBUFERRORS = 2;
export const RAW_INERRORS = 3;
export const RAW_OUTERRORS = 4;
export const RAW_COUNT = RAW_OUTERRORS + 1;

/** Per-device statistics (struct rtnl_link_stats64 names). */
export const DEV_NAMES = [
  'rx_packets', 'rx_bytes', 'rx_dropped', 'rx_over_errors', 'rx_errors', 'tx_packets', 'tx_bytes',
  'tx_dropped', 'tx_errors',
];
export const DEV_RX_PACKETS = 0;
export const DEV_RX_BYTES = 1;
export const DEV_RX_DROPPED = 2;
export const DEV_RX_OVER_ERRORS = 3;
export const DEV_RX_ERRORS = 4;
export const DEV_TX_PACKETS = 5;
export const DEV_TX_BYTES = 6;
export const DEV_TX_DROPPED = 7;
export const DEV_TX_ERRORS = 8;
export const DEV_COUNT = DEV_TX_ERRORS + 1;

export class Mib {
  readonly ipB = new MibBlock('Ip', FEATURE_MIB_NAMES ? IP_NAMES : null, IP_COUNT);
  readonly icmpB = new MibBlock('Icmp', FEATURE_MIB_NAMES ? ICMP_NAMES : null, ICMP_COUNT);
  readonly udpB = new MibBlock('Udp', FEATURE_MIB_NAMES ? UDP_NAMES : null, UDP_COUNT);
  readonly linkB = new MibBlock('Link', FEATURE_MIB_NAMES ? LINK_NAMES : null, LINK_COUNT);
  readonly rawB = new MibBlock('Raw', FEATURE_MIB_NAMES ? RAW_NAMES : null, RAW_COUNT);
  /* direct arrays for the hot path */
  readonly ip = this.ipB.v;
  readonly icmp = this.icmpB.v;
  readonly udp = this.udpB.v;
  readonly link = this.linkB.v;
  readonly raw = this.rawB.v;
  /** Extension point: later protocols (Tcp, TcpExt) add their blocks here. */
  readonly blocks: MibBlock[] = [this.ipB, this.icmpB, this.udpB, this.rawB, this.linkB];

  addBlock(b: MibBlock): void {
    this.blocks.push(b);
  }

  toObject(): { [k: string]: { [k: string]: number } } {
    const o: { [k: string]: { [k: string]: number } } = {};
    for (let i = 0; i < this.blocks.length; i++) o[this.blocks[i].name] = this.blocks[i].toObject();
    return o;
  }
}
