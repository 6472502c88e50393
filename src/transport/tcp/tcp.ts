/*
 * tcp.ts — TCP constants, header offsets, options, counters and the TCB
 * table (struct tcp_sock, flattened into typed arrays indexed by TCB
 * number). Everything is allocated once by TcpState's constructor.
 *
 * Place in the packet path: shared by tcp_input / tcp_output / tcp_timer /
 * tcp_minisocks / tcp_ipv4 / tcp_api. RFC 9293 §3.1 (header), §3.3.2
 * (states), RFC 7323 (timestamps, window scale), RFC 2018 (SACK).
 *
 * Sequence numbers, timestamps and addresses are held as s32 (the signed
 * pattern; src/core/inaddr.ts explains why: V8 keeps them as Smis, no
 * HeapNumber boxing on the hot path) in Int32Arrays, compared with ===
 * and before()/after(); the API normalizes what it is given.
 *
 * Byte rings: each TCB owns one send ring holding unacked + unsent data
 * (seq sndBase .. writeSeq), and one receive ring holding unread in-order
 * data (rcvCount bytes from rcvHead) followed by out-of-order data written
 * at its offset from rcvNxt (ranges in oooS/oooE, the source of SACK blocks).
 */
import type { Stack } from '../../stack';
import { MibBlock } from '../../core/mib';
import { FEATURE_MIB_NAMES, FEATURE_TCP_RACK } from '../../features';
import { s32, after, before } from '../../core/bits';


/* ---- header (RFC 9293 §3.1) ---- */
export const TH_SPORT = 0;
export const TH_DPORT = 2;
export const TH_SEQ = 4;
export const TH_ACK = 8;
export const TH_DOFF = 12;
export const TH_FLAGS = 13;
export const TH_WIN = 14;
export const TH_CSUM = 16;
export const TH_URP = 18;
export const TCP_HLEN = 20;
export const TCP_MAX_HLEN = 60;

export const TCPF_FIN = 0x01;
export const TCPF_SYN = 0x02;
export const TCPF_RST = 0x04;
export const TCPF_PSH = 0x08;
export const TCPF_ACK = 0x10;
export const TCPF_URG = 0x20;
export const TCPF_ECE = 0x40;
export const TCPF_CWR = 0x80;

/* ---- options ---- */
export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
export const TCPOLEN_TSTAMP_ALIGNED = 12;
export const TCP_MAX_WSCALE = 14;
export const TCP_MSS_DEFAULT = 536;
export const TCP_MIN_MSS = 88;
/** SACK blocks parsed from one segment (40 option bytes hold at most 4) */
export const TCP_MAX_SACK_IN = 4;

/* ---- states (Linux numbering; 0 = TCB slot free) ---- */
export const TCP_FREE = 0;
export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_FIN_WAIT1 = 4;
export const TCP_FIN_WAIT2 = 5;
export const TCP_TIME_WAIT = 6;
export const TCP_CLOSE = 7;
export const TCP_CLOSE_WAIT = 8;
export const TCP_LAST_ACK = 9;
export const TCP_LISTEN = 10;
export const TCP_CLOSING = 11;

export const TCP_STATE_NAMES = [
  'FREE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE',
  'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING',
];

/* ---- who holds a TCB ---- */
/** nobody: closed by the application, lives until the protocol is done */
export const OWN_ORPHAN = 0;
/** the application (a socket) */
export const OWN_APP = 1;
/** a listener's accept queue (not yet accepted) */
export const OWN_ACCEPTQ = 2;

/* ---- per-TCB flag bits (flags[]) ---- */
export const F_TS = 0x1; // timestamps negotiated
export const F_SACK = 0x2; // SACK permitted both ways
export const F_WS = 0x4; // window scaling negotiated
export const F_NODELAY = 0x8;
export const F_KEEPALIVE = 0x10;
export const F_LINGER0 = 0x20;
export const F_FIN_QUEUED = 0x40; // application shut down writing: FIN follows the data
export const F_RCV_SHUT = 0x80; // no more data to the application (FIN received or SHUT_RD)
export const F_RTT_ACTIVE = 0x100; // timing rttSeq (no timestamps)
export const F_RENO_RECOV = 0x200; // NewReno fast recovery (RFC 6582)
export const F_SACK_RECOV = 0x400; // SACK loss recovery (RFC 6675)
export const F_ACK_PENDING = 0x800; // an ACK is owed (delayed)
export const F_ACK_NOW = 0x1000; // send the ACK at the end of input processing
export const F_PROBE = 0x2000; // retransmit timer is the persist timer
export const F_OOO_FIN = 0x4000; // a FIN arrived beyond rcvNxt (at rcvFinSeq)
export const F_SND_SHUT = 0x8000; // SHUT_WR done
export const F_CLOSED_APP = 0x10000; // application called close
export const F_WS_OFFERED = 0x20000; // SYN_SENT: we offered window scaling
export const F_ZWND_ADV = 0x40000; // last advertised window was zero
/**
 * an RTO retransmission is outstanding: a timestamp echo older than
 * rtxTs (the TSval of the latest RTO retransmission) measures the time an
 * ACK was lost, not the path, and is not an RTT sample (Karn for TSecr)
 */
export const F_RTO_TS = 0x80000;
/** a D-SACK block (dsS..dsE) goes first in the next ACK's SACK option (RFC 2883) */
export const F_DSACK = 0x100000;
/** SO_LINGER with a timeout (lingerMs): after close, data + FIN get that long to be acknowledged, then RST */
export const F_LINGER = 0x200000;
/** path MTU discovery off for this TCB: the path reported an MTU below 552 (Linux min_pmtu); DF is cleared */
export const F_NOPMTU = 0x400000;
/* ---- RACK-TLP / undo (tcp_recovery.ts, FEATURE_TCP_RACK) ---- */
/** the retransmit timer is RACK's reordering timer (RFC 8985 §6.3) */
export const F_REO_TMR = 0x800000;
/** the retransmit timer is the tail loss probe timer (RFC 8985 §7.2) */
export const F_TLP_TMR = 0x1000000;
/** recovery after an RTO (Linux TCP_CA_Loss): cwnd grows by slow start while lost data is resent */
export const F_LOSS = 0x2000000;
/** reordering was observed on this connection (RFC 8985 RACK.reordering_seen) */
export const F_REORD = 0x4000000;
/** undo possible: prior cwnd/ssthresh saved at the start of this recovery (RFC 3708, Linux undo_marker) */
export const F_UNDO = 0x8000000;
/** a tail loss probe sent in the open state is outstanding (RFC 8985 §7.3-§7.4, TLPRxtOut) */
export const F_TLP_OUT = 0x10000000;
/** the outstanding probe was a retransmission (its loss repair counts, RFC 8985 §7.4) */
export const F_TLP_RTX = 0x20000000;

/* ---- timers per TCB ---- */
export const TT_RTX = 0; // retransmit, SYN retries, persist
export const TT_DACK = 1; // delayed ACK
export const TT_KEEP = 2; // keepalive, orphaned FIN_WAIT2

/* ---- Tcp: (/proc/net/snmp) ---- */
export const TCP_NAMES = [
  'ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab', 'InSegs', 'OutSegs',
  'RetransSegs', 'InErrs', 'OutRsts', 'InCsumErrors',
];
export const TCP_ACTIVEOPENS = 0;
export const TCP_PASSIVEOPENS = 1;
export const TCP_ATTEMPTFAILS = 2;
export const TCP_ESTABRESETS = 3;
export const TCP_CURRESTAB = 4;
export const TCP_INSEGS = 5;
export const TCP_OUTSEGS = 6;
export const TCP_RETRANSSEGS = 7;
export const TCP_INERRS = 8;
export const TCP_OUTRSTS = 9;
export const TCP_INCSUMERRORS = 10;
/** counters in the Tcp block (the MibBlock size; see src/core/mib.ts) */
export const TCP_COUNT = TCP_INCSUMERRORS + 1;

/* ---- TcpExt: (/proc/net/netstat) ---- */
export const TCPEXT_NAMES = [
  'ListenOverflows', 'ListenDrops', 'TCPReqQFullDrop', 'TCPSackRecovery', 'TCPRenoRecovery',
  'TCPChallengeACK', 'TCPSYNChallenge', 'TCPACKSkippedChallenge', 'TW', 'TCPTimeWaitOverflow',
  'DelayedACKs', 'TCPFastRetrans', 'TCPSlowStartRetrans', 'TCPTimeouts', 'TCPOFOQueue', 'TCPOFODrop',
  'TCPOFOMerge', 'PAWSEstab', 'TCPAbortOnData', 'TCPAbortOnClose', 'TCPAbortOnTimeout',
  'TCPAbortOnLinger', 'EmbryonicRsts', 'TCPSACKDiscard', 'TCPWinProbe', 'TCPKeepAlive',
  'TCPSynRetrans', 'TCPOrigDataSent', 'TCPRcvQDrop', 'TCPZeroWindowDrop', 'TCPToZeroWindowAdv',
  'TCPFromZeroWindowAdv', 'TCPPureAcks', 'TCPNoSkb', 'TCPLimitedTransmit', 'TCPPartialAcks',
  'TCPDSACKRecv', 'OutOfWindowIcmps', 'TCPTimeWaitKilled', 'TCPAbortFailed', 'TCPSackBlocksRecv',
  'SyncookiesSent', 'SyncookiesRecv', 'SyncookiesFailed', 'TCPReqQFullDoCookies', 'TCPACKSkippedSeq',
  'TCPACKSkippedPAWS', 'TCPSACKRescue', 'TCPDSACKOldSent', 'TCPSpuriousRTOs', 'TCPSACKReneging',
  'TCPLossProbes', 'TCPLossProbeRecovery', 'TCPLostRetransmit', 'TCPRackTimeouts', 'TCPDSACKUndo',
  'TCPFullUndo', 'TCPLossUndo',
];
export const TX_LISTENOVERFLOWS = 0;
export const TX_LISTENDROPS = 1;
export const TX_REQQFULLDROP = 2;
export const TX_SACKRECOVERY = 3;
export const TX_RENORECOVERY = 4;
export const TX_CHALLENGEACK = 5;
export const TX_SYNCHALLENGE = 6;
export const TX_ACKSKIPPEDCHALLENGE = 7;
export const TX_TW = 8;
export const TX_TIMEWAITOVERFLOW = 9;
export const TX_DELAYEDACKS = 10;
export const TX_FASTRETRANS = 11;
export const TX_SLOWSTARTRETRANS = 12;
export const TX_TIMEOUTS = 13;
export const TX_OFOQUEUE = 14;
export const TX_OFODROP = 15;
export const TX_OFOMERGE = 16;
export const TX_PAWSESTAB = 17;
export const TX_ABORTONDATA = 18;
export const TX_ABORTONCLOSE = 19;
export const TX_ABORTONTIMEOUT = 20;
export const TX_ABORTONLINGER = 21;
export const TX_EMBRYONICRSTS = 22;
export const TX_SACKDISCARD = 23;
export const TX_WINPROBE = 24;
export const TX_KEEPALIVE = 25;
export const TX_SYNRETRANS = 26;
export const TX_ORIGDATASENT = 27;
export const TX_RCVQDROP = 28;
export const TX_ZEROWINDOWDROP = 29;
export const TX_TOZEROWINDOWADV = 30;
export const TX_FROMZEROWINDOWADV = 31;
export const TX_PUREACKS = 32;
export const TX_NOSKB = 33;
export const TX_LIMITEDTRANSMIT = 34;
export const TX_PARTIALACKS = 35;
export const TX_DSACKRECV = 36;
export const TX_OUTOFWINDOWICMPS = 37;
export const TX_TIMEWAITKILLED = 38;
export const TX_ABORTFAILED = 39;
export const TX_SACKBLOCKSRECV = 40;
export const TX_SYNCOOKIESSENT = 41;
export const TX_SYNCOOKIESRECV = 42;
export const TX_SYNCOOKIESFAILED = 43;
export const TX_REQQFULLDOCOOKIES = 44;
export const TX_ACKSKIPPEDSEQ = 45;
export const TX_ACKSKIPPEDPAWS = 46;
/** RFC 6675 rescue retransmissions */
export const TX_SACKRESCUE = 47;
/** D-SACK blocks sent for duplicate data (RFC 2883) */
export const TX_DSACKOLDSENT = 48;
/** an RTO retransmission was not needed: the ACK echoes a timestamp from before it (RFC 3522 detection) */
export const TX_SPURIOUSRTOS = 49;
/** the receiver reneged on SACKed data (or may have): the kept scoreboard was cleared */
export const TX_SACKRENEGING = 50;
/** tail loss probes sent (RFC 8985 §7) */
export const TX_LOSSPROBES = 51;
/** a loss repaired by a tail loss probe (RFC 8985 §7.4) */
export const TX_LOSSPROBERECOVERY = 52;
/** retransmissions found lost by RACK (a later transmission was delivered first) */
export const TX_LOSTRETRANSMIT = 53;
/** RACK reordering-timer expiries (RFC 8985 §6.3) */
export const TX_RACKTIMEOUTS = 54;
/** recoveries undone: D-SACKs showed every retransmission was spurious (RFC 3708) */
export const TX_DSACKUNDO = 55;
/** fast recoveries undone: the ACK echoed a timestamp older than the retransmission (RFC 3522) */
export const TX_FULLUNDO = 56;
/** RTO recoveries undone: the ACK echoed a timestamp older than the retransmission (RFC 3522, F-RTO's goal) */
export const TX_LOSSUNDO = 57;
/** counters in the TcpExt block (the MibBlock size; see src/core/mib.ts) */
export const TCPEXT_COUNT = TX_LOSSUNDO + 1;

/**
 * A MibBlock whose counters live in an Int32Array (tp.mib / tp.ext). On
 * V8, `f64[i]++` in code that is not optimized (rare paths: loss
 * recovery, resets) boxes the loaded double in a HeapNumber; an int32
 * element load is a Smi. toObject()/get() copy the values into v first.
 */
export class IntMibBlock extends MibBlock {
  readonly iv: Int32Array;
  constructor(name: string, names: string[] | null, count: number) {
    super(name, names, count);
    this.iv = new Int32Array(count);
  }
  sync(): void {
    for (let i = 0; i < this.iv.length; i++) this.v[i] = this.iv[i];
  }
  override toObject(): { [k: string]: number } {
    this.sync();
    return super.toObject();
  }
  override get(name: string): number {
    this.sync();
    return super.get(name);
  }
}

/**
 * The IP-layer calls TCP makes, behind one object so a unit test can
 * capture segments without the IP layer (tcp_ipv4.ts installs the real one).
 */
export interface TcpIpOps {
  /**
   * ip_build_and_send_pkt: skb data at the TCP header. Consumes skb. 0 or -errno.
   * df: set Don't Fragment (RFC 1191 path MTU discovery on this segment).
   */
  xmit(st: Stack, skb: number, saddr: number, daddr: number, tos: number, ttl: number, df: boolean): number;
  /** local address used to reach daddr (s32), 0 when unroutable */
  selectSource(st: Stack, daddr: number): number;
  /** MTU of the device used to reach daddr (0 when unroutable) */
  mtuTo(st: Stack, daddr: number): number;
}

/**
 * RACK-TLP and undo state of every TCB (tcp_recovery.ts), indexed like
 * TcpState's arrays: the transmission records (M per TCB) and per-TCB
 * RACK, reordering window, undo, probe and PRR state, plus scratch of the
 * ACK being processed. Allocated once by TcpState when RACK is on.
 */
export class TcpRackState {
  readonly rkSeq: Int32Array;
  readonly rkTime: Float64Array;
  readonly rkFl: Uint8Array;
  readonly rkHead: Int32Array;
  readonly rkN: Int32Array;
  /** RACK.xmit_ts / RACK.end_seq / RACK.rtt of the most recently sent segment delivered (RFC 8985 §6.1) */
  readonly rackXmit: Float64Array;
  readonly rackEnd: Int32Array;
  readonly rackRtt: Float64Array;
  /** minimum RTT seen (ms, 0 = none) and the highest sequence delivered (RACK.fack) */
  readonly rackMinRtt: Float64Array;
  readonly rackFack: Int32Array;
  /** RACK.reo_wnd_mult, the D-SACK round it last grew in, recoveries left before it resets (RFC 8985 §6.2 step 4) */
  readonly reoMult: Uint8Array;
  readonly reoRound: Int32Array;
  readonly reoPersist: Uint8Array;
  /** the largest reordering seen, in ms: how much later than the fastest round trip a segment sent before a delivered one arrived */
  readonly reoSeen: Float64Array;
  /** undo (F_UNDO): cwnd/ssthresh before the recovery, SND.UNA when it began, retransmissions not yet D-SACKed, TSval of the first one */
  readonly priorCwnd: Int32Array;
  readonly priorSsthresh: Int32Array;
  readonly undoMarker: Int32Array;
  readonly undoRetrans: Int32Array;
  readonly undoTs: Int32Array;
  /** sndMax when the outstanding tail loss probe was sent (TLPHighRxt) */
  readonly tlpHigh: Int32Array;
  /** loss probes sent since data was last delivered (at most TLP_MAX before the RTO) */
  readonly tlpCount: Uint8Array;
  /** when the RTO that the probe timer stands in front of is due (kept across the probe, as Linux tcp_rearm_rto) */
  readonly tlpRtoAt: Float64Array;
  /** RFC 6937 PRR in fast recovery: bytes delivered and sent since it began, and RecoverFS (cwnd then) */
  readonly prrDelivered: Int32Array;
  readonly prrOut: Int32Array;
  readonly recoverFs: Int32Array;
  /** RFC 5682 F-RTO after an RTO: 0 off, 1 waiting for the first ACK, 2 new data sent, waiting for the second */
  readonly frto: Uint8Array;
  /** this ACK's D-SACK brought the recovery's undoRetrans to 0 (tcp_recovery.ts) */
  rackUndoDsack = false;
  /** this ACK SACKed a record not SACKed before (tcp_recovery.ts) */
  rackNewSack = false;
  /** this ACK's change in SACKed bytes (newly SACKed less SACKed data now cumulatively ACKed; RFC 6937 DeliveredData) */
  rackDelivered = 0;

  constructor(n: number, M: number) {
    this.rkSeq = new Int32Array(n * M);
    this.rkTime = new Float64Array(n * M);
    this.rkFl = new Uint8Array(n * M);
    const r = n;
    this.rkHead = new Int32Array(r);
    this.rkN = new Int32Array(r);
    this.rackXmit = new Float64Array(r);
    this.rackEnd = new Int32Array(r);
    this.rackRtt = new Float64Array(r);
    this.rackMinRtt = new Float64Array(r);
    this.rackFack = new Int32Array(r);
    this.reoMult = new Uint8Array(r);
    this.reoRound = new Int32Array(r);
    this.reoPersist = new Uint8Array(r);
    this.reoSeen = new Float64Array(r);
    this.priorCwnd = new Int32Array(r);
    this.priorSsthresh = new Int32Array(r);
    this.undoMarker = new Int32Array(r);
    this.undoRetrans = new Int32Array(r);
    this.undoTs = new Int32Array(r);
    this.tlpHigh = new Int32Array(r);
    this.tlpCount = new Uint8Array(r);
    this.tlpRtoAt = new Float64Array(r);
    this.prrDelivered = new Int32Array(r);
    this.prrOut = new Int32Array(r);
    this.recoverFs = new Int32Array(r);
    this.frto = new Uint8Array(r);
  }
}

/** All TCP state of one stack (tcp_hashinfo + every tcp_sock + minisocks). */
export class TcpState {
  readonly n: number;
  readonly K: number; // ranges per TCB
  ops: TcpIpOps;
  readonly mibB: IntMibBlock;
  readonly extB: IntMibBlock;
  readonly mib: Int32Array;
  readonly ext: Int32Array;

  /* ---- TCBs ---- */
  readonly state: Uint8Array;
  readonly owner: Uint8Array;
  readonly fd: Int32Array;
  readonly flags: Int32Array;
  readonly err: Int32Array;
  /** last ICMP soft error (reported instead of ETIMEDOUT when the connection times out) */
  readonly softErr: Int32Array;
  readonly laddr: Int32Array;
  readonly raddr: Int32Array;
  readonly lport: Int32Array;
  readonly rport: Int32Array;
  /* listener / accept queue */
  readonly parent: Int32Array;
  readonly acceptNext: Int32Array;
  readonly acceptHead: Int32Array;
  readonly acceptLen: Int32Array;
  readonly backlog: Int32Array;
  /* send sequence space */
  readonly iss: Int32Array;
  readonly sndUna: Int32Array;
  readonly sndNxt: Int32Array;
  /** highest sequence ever sent (snd_nxt before a go-back-N) */
  readonly sndMax: Int32Array;
  readonly sndWl1: Int32Array;
  readonly sndWl2: Int32Array;
  readonly sndWnd: Int32Array;
  readonly maxSndWnd: Int32Array;
  /** seq of the first byte held in the send ring */
  readonly sndBase: Int32Array;
  /** seq after the last byte the application queued */
  readonly writeSeq: Int32Array;
  readonly sndHead: Int32Array;
  readonly sndLimit: Int32Array;
  readonly sndWscale: Uint8Array;
  /* receive sequence space */
  readonly irs: Int32Array;
  readonly rcvNxt: Int32Array;
  /** right edge of the last advertised window (never moves left) */
  readonly rcvEdge: Int32Array;
  readonly rcvHead: Int32Array;
  readonly rcvCount: Int32Array;
  readonly rcvLimit: Int32Array;
  readonly rcvWscale: Uint8Array;
  readonly rcvFinSeq: Int32Array;
  /** bytes received since the last ACK we sent (delayed ACK) */
  readonly rcvUnacked: Int32Array;
  /** largest segment seen from the peer (delayed-ACK "full-sized") */
  readonly rcvMss: Int32Array;
  /* MSS */
  /** effective send MSS: payload bytes per segment, options excluded */
  readonly smss: Int32Array;
  /** MSS we advertised */
  readonly advMss: Int32Array;
  /** MSS the peer advertised (clamp) */
  readonly peerMss: Int32Array;
  /* congestion control (bytes) */
  readonly cwnd: Int32Array;
  readonly ssthresh: Int32Array;
  readonly recover: Int32Array;
  readonly highRxt: Int32Array;
  readonly dupAcks: Int32Array;
  /* RTT / RTO (RFC 6298), ms; srtt scaled by 8, rttvar by 4 */
  readonly srtt8: Int32Array;
  readonly rttvar4: Int32Array;
  readonly rto: Int32Array;
  readonly backoff: Int32Array;
  readonly retransmits: Int32Array;
  readonly probesOut: Int32Array;
  readonly rttSeq: Int32Array;
  readonly rttTime: Float64Array;
  readonly rtxStart: Float64Array;
  /** D-SACK block to report (F_DSACK): duplicate data received */
  readonly dsS: Int32Array;
  readonly dsE: Int32Array;
  /** RFC 6675 RescueRxt: set to the recovery point by the rescue retransmission (NextSeg rule 4) */
  readonly rescueRxt: Int32Array;
  /** TSval (our clock + tsOffset) of the latest RTO retransmission (F_RTO_TS) */
  readonly rtxTs: Int32Array;
  readonly rcvTstamp: Float64Array;
  /** last ACK sent for an out-of-window / PAWS-failed pure ACK (tcp_oow_rate_limited) */
  readonly oowLast: Float64Array;
  /* timestamps (RFC 7323) */
  readonly tsRecent: Int32Array;
  readonly tsRecentStamp: Float64Array;
  readonly tsOffset: Int32Array;
  /* socket options */
  readonly keepIdle: Int32Array;
  readonly keepIntvl: Int32Array;
  readonly keepCnt: Int32Array;
  readonly userTimeout: Int32Array;
  /** SO_LINGER timeout in ms (F_LINGER) */
  readonly lingerMs: Int32Array;
  /* rings */
  readonly sndRing: Uint8Array[];
  readonly rcvRing: Uint8Array[];
  /* out-of-order ranges (most recent first), K per TCB */
  readonly oooS: Int32Array;
  readonly oooE: Int32Array;
  readonly oooN: Uint8Array;
  /* SACK scoreboard (sorted ascending), K per TCB */
  readonly sbS: Int32Array;
  readonly sbE: Int32Array;
  readonly sbN: Uint8Array;
  /*
   * RACK-TLP (tcp_recovery.ts; FEATURE_TCP_RACK, cfg.tcpRackSegs = M): a
   * ring of M transmission records per TCB, one per segment sent and not
   * yet cumulatively acknowledged, in sequence order: start sequence (the
   * end is the next record's start, or sndMax), time of the latest
   * (re)transmission, RK_* flags: TcpRackState, allocated only when RACK is
   * on (a board without it pays for no field of it).
   */
  readonly M: number;
  /** the RACK state (tcp_recovery.ts), null when M = 0 (FEATURE_TCP_RACK off or cfg.tcpRackSegs 0) */
  readonly rk: TcpRackState | null;
  /**
   * Linux icsk_ack.quick: in-order segments still to be ACKed at once
   * (not delayed) after out-of-order or duplicate data arrived, so a
   * sender in loss recovery gets every ACK it can (tcp_input.ts).
   */
  readonly quickAcks: Uint8Array;
  /* timers */
  readonly tRtx: Int32Array;
  readonly tDack: Int32Array;
  readonly tKeep: Int32Array;

  /* ---- request socks (SYN queue) ---- */
  readonly rqN: number;
  readonly rqUsed: Uint8Array;
  readonly rqLaddr: Int32Array;
  readonly rqRaddr: Int32Array;
  readonly rqLport: Int32Array;
  readonly rqRport: Int32Array;
  readonly rqListener: Int32Array;
  readonly rqIss: Int32Array;
  readonly rqIrs: Int32Array;
  readonly rqMss: Int32Array;
  /** peer's window scale, -1 when not offered */
  readonly rqWs: Int32Array;
  readonly rqFlags: Int32Array;
  readonly rqTsRecent: Int32Array;
  readonly rqTsOffset: Int32Array;
  readonly rqWnd: Int32Array;
  readonly rqRetries: Int32Array;
  readonly rqExpire: Float64Array;
  rqCount = 0;
  /** request slot rqN (one past the SYN queue) is scratch space for a decoded SYN cookie */
  readonly rqScratch: number;
  /** when the SYN queue last overflowed into cookies (cookies are accepted for 2 minutes after) */
  lastCookieMs = -1;
  /** SYN cookie keys (tcp_syncookies.ts): a fresh random pair per minute, kept for the minute's
   * parity (the current and the previous minute's), and the minute each pair belongs to (-1: none) */
  readonly cookieKey = new Int32Array(4);
  readonly cookieKeyMin = new Int32Array(2);
  tReq = -1;

  /* ---- TIME_WAIT minisocks ---- */
  readonly twN: number;
  readonly twUsed: Uint8Array;
  readonly twLaddr: Int32Array;
  readonly twRaddr: Int32Array;
  readonly twLport: Int32Array;
  readonly twRport: Int32Array;
  readonly twSndNxt: Int32Array;
  readonly twRcvNxt: Int32Array;
  readonly twTsRecent: Int32Array;
  readonly twTsOffset: Int32Array;
  readonly twFlags: Int32Array;
  readonly twWnd: Int32Array;
  readonly twExpire: Float64Array;
  twCount = 0;
  tTw = -1;

  /* ---- parsed incoming segment (scratch; one segment at a time) ---- */
  segSaddr = 0;
  segDaddr = 0;
  segSport = 0;
  segDport = 0;
  segSeq = 0;
  segAck = 0;
  segFlags = 0;
  segWnd = 0;
  /** the segment carried SYN: its window is never scaled (RFC 7323 §2.2) */
  segSynWnd = false;
  segLen = 0;
  /** payload offset in the skb's buffer */
  segOff = 0;
  /**
   * Receive fast path (tcpV4Rcv): the payload was already copied into
   * the free space of TCB segPreTcb's receive ring at segPrePos while its
   * checksum was verified; segPreLen bytes (0 = not copied). tcpDataQueue
   * commits them instead of copying again.
   */
  segPreTcb = -1;
  segPrePos = 0;
  segPreLen = 0;
  optMss = 0;
  optWs = -1;
  optSackOk = false;
  optTs = false;
  optTsval = 0;
  optTsecr = 0;
  sackN = 0;
  readonly sackS = new Int32Array(TCP_MAX_SACK_IN);
  readonly sackE = new Int32Array(TCP_MAX_SACK_IN);

  /* ---- misc ---- */
  /** RFC 6528 secret */
  readonly secret = new Int32Array(4);
  /** test hook: when >= 0, the next ISNs are this value (forces wrap tests) */
  isnOverride = -1;
  /** ISN for the next request sock (a SYN that recycled a TIME_WAIT slot), -1 none */
  isnHint = -1;
  chalWindow = 0;
  chalCount = 0;
  nextEphemeral = 0;

  constructor(st: Stack, ops: TcpIpOps) {
    const c = st.cfg;
    const n = c.tcpMaxSockets;
    const K = c.tcpOooRanges > 0 ? c.tcpOooRanges : 1;
    this.n = n;
    this.K = K;
    this.ops = ops;
    this.mibB = new IntMibBlock('Tcp', FEATURE_MIB_NAMES ? TCP_NAMES : null, TCP_COUNT);
    this.extB = new IntMibBlock('TcpExt', FEATURE_MIB_NAMES ? TCPEXT_NAMES : null, TCPEXT_COUNT);
    this.mib = this.mibB.iv;
    this.ext = this.extB.iv;
    this.state = new Uint8Array(n);
    this.owner = new Uint8Array(n);
    this.fd = new Int32Array(n);
    this.flags = new Int32Array(n);
    this.err = new Int32Array(n);
    this.softErr = new Int32Array(n);
    this.laddr = new Int32Array(n);
    this.raddr = new Int32Array(n);
    this.lport = new Int32Array(n);
    this.rport = new Int32Array(n);
    this.parent = new Int32Array(n);
    this.acceptNext = new Int32Array(n);
    this.acceptHead = new Int32Array(n);
    this.acceptLen = new Int32Array(n);
    this.backlog = new Int32Array(n);
    this.iss = new Int32Array(n);
    this.sndUna = new Int32Array(n);
    this.sndNxt = new Int32Array(n);
    this.sndMax = new Int32Array(n);
    this.sndWl1 = new Int32Array(n);
    this.sndWl2 = new Int32Array(n);
    this.sndWnd = new Int32Array(n);
    this.maxSndWnd = new Int32Array(n);
    this.sndBase = new Int32Array(n);
    this.writeSeq = new Int32Array(n);
    this.sndHead = new Int32Array(n);
    this.sndLimit = new Int32Array(n);
    this.sndWscale = new Uint8Array(n);
    this.irs = new Int32Array(n);
    this.rcvNxt = new Int32Array(n);
    this.rcvEdge = new Int32Array(n);
    this.rcvHead = new Int32Array(n);
    this.rcvCount = new Int32Array(n);
    this.rcvLimit = new Int32Array(n);
    this.rcvWscale = new Uint8Array(n);
    this.rcvFinSeq = new Int32Array(n);
    this.rcvUnacked = new Int32Array(n);
    this.rcvMss = new Int32Array(n);
    this.smss = new Int32Array(n);
    this.advMss = new Int32Array(n);
    this.peerMss = new Int32Array(n);
    this.cwnd = new Int32Array(n);
    this.ssthresh = new Int32Array(n);
    this.recover = new Int32Array(n);
    this.highRxt = new Int32Array(n);
    this.dupAcks = new Int32Array(n);
    this.srtt8 = new Int32Array(n);
    this.rttvar4 = new Int32Array(n);
    this.rto = new Int32Array(n);
    this.backoff = new Int32Array(n);
    this.retransmits = new Int32Array(n);
    this.probesOut = new Int32Array(n);
    this.rttSeq = new Int32Array(n);
    this.rttTime = new Float64Array(n);
    this.rtxStart = new Float64Array(n);
    this.rtxTs = new Int32Array(n);
    this.rescueRxt = new Int32Array(n);
    this.dsS = new Int32Array(n);
    this.dsE = new Int32Array(n);
    this.rcvTstamp = new Float64Array(n);
    this.oowLast = new Float64Array(n);
    this.tsRecent = new Int32Array(n);
    this.tsRecentStamp = new Float64Array(n);
    this.tsOffset = new Int32Array(n);
    this.keepIdle = new Int32Array(n);
    this.keepIntvl = new Int32Array(n);
    this.keepCnt = new Int32Array(n);
    this.userTimeout = new Int32Array(n);
    this.lingerMs = new Int32Array(n);
    this.sndRing = [];
    this.rcvRing = [];
    for (let i = 0; i < n; i++) {
      this.sndRing.push(new Uint8Array(c.tcpSndBuf));
      this.rcvRing.push(new Uint8Array(c.tcpRcvBuf));
    }
    this.oooS = new Int32Array(n * K);
    this.oooE = new Int32Array(n * K);
    this.oooN = new Uint8Array(n);
    this.sbS = new Int32Array(n * K);
    this.sbE = new Int32Array(n * K);
    this.sbN = new Uint8Array(n);
    const M = FEATURE_TCP_RACK && c.tcpRackSegs > 1 ? c.tcpRackSegs : 0;
    this.M = M;
    this.rk = FEATURE_TCP_RACK && M > 0 ? new TcpRackState(n, M) : null;
    this.quickAcks = new Uint8Array(n);
    this.tRtx = new Int32Array(n);
    this.tDack = new Int32Array(n);
    this.tKeep = new Int32Array(n);

    const rn = c.tcpSynQueue;
    this.rqN = rn;
    this.rqScratch = rn;
    this.rqUsed = new Uint8Array(rn + 1);
    this.rqLaddr = new Int32Array(rn + 1);
    this.rqRaddr = new Int32Array(rn + 1);
    this.rqLport = new Int32Array(rn + 1);
    this.rqRport = new Int32Array(rn + 1);
    this.rqListener = new Int32Array(rn + 1);
    this.rqIss = new Int32Array(rn + 1);
    this.rqIrs = new Int32Array(rn + 1);
    this.rqMss = new Int32Array(rn + 1);
    this.rqWs = new Int32Array(rn + 1);
    this.rqFlags = new Int32Array(rn + 1);
    this.rqTsRecent = new Int32Array(rn + 1);
    this.rqTsOffset = new Int32Array(rn + 1);
    this.rqWnd = new Int32Array(rn + 1);
    this.rqRetries = new Int32Array(rn + 1);
    this.rqExpire = new Float64Array(rn + 1);

    const tn = c.tcpTimeWaitSlots;
    this.twN = tn;
    this.twUsed = new Uint8Array(tn);
    this.twLaddr = new Int32Array(tn);
    this.twRaddr = new Int32Array(tn);
    this.twLport = new Int32Array(tn);
    this.twRport = new Int32Array(tn);
    this.twSndNxt = new Int32Array(tn);
    this.twRcvNxt = new Int32Array(tn);
    this.twTsRecent = new Int32Array(tn);
    this.twTsOffset = new Int32Array(tn);
    this.twFlags = new Int32Array(tn);
    this.twWnd = new Int32Array(tn);
    this.twExpire = new Float64Array(tn);
  }

  /** TCBs in use (tests assert 0 at the end). */
  inUse(): number {
    let k = 0;
    for (let i = 0; i < this.n; i++) if (this.state[i] !== TCP_FREE) k++;
    return k;
  }
}

/* ---- small helpers used by every TCP file ---- */

/*
 * 32-bit hash arithmetic that never leaves the Smi range on V8 (every
 * intermediate is below 2^26 in magnitude, results are s32): an
 * unsigned value >= 2^31 returned from or passed to a function that is
 * not inlined is boxed into a HeapNumber (an allocation). No Math.imul
 * (Espruino), no `| 0` wrapping (Lua); the operands may be in either
 * form (only their low 32 bits are read), in Lua too.
 */

/** Low 16 bits of x * y, for 0 <= x, y < 2^16 (products < 2^24). */
function mulLo16(x: number, y: number): number {
  return (x * (y & 0xff) + (((x * (y >>> 8)) & 0xff) << 8)) & 0xffff;
}

/** 32-bit multiply modulo 2^32 (s32 result) without Math.imul (portable to Lua). */
export function mul32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = (a >>> 16) & 0xffff;
  const bl = b & 0xffff;
  const bh = (b >>> 16) & 0xffff;
  // al * bl = al * bl0 + al * bl1 * 256, split so nothing exceeds 2^25
  const p0 = al * (bl & 0xff);
  const p1 = al * (bl >>> 8);
  const lo = p0 + ((p1 & 0xff) << 8);
  const hi = ((p1 >>> 8) + (lo >>> 16) + mulLo16(ah, bl) + mulLo16(al, bh)) & 0xffff;
  return s32((hi << 16) | (lo & 0xffff));
}

/** a + b modulo 2^32 (s32 result), in 16-bit halves. */
export function add32(a: number, b: number): number {
  const lo = (a & 0xffff) + (b & 0xffff);
  const hi = (((a >>> 16) & 0xffff) + ((b >>> 16) & 0xffff) + (lo >>> 16)) & 0xffff;
  return s32((hi << 16) | (lo & 0xffff));
}

/** A good 32-bit mix (murmur3 fmix32), s32 result. */
export function fmix32(x0: number): number {
  let x = x0 ^ ((x0 >>> 16) & 0xffff);
  x = mul32(x, 0x85ebca6b);
  x = x ^ ((x >>> 13) & 0x7ffff);
  x = mul32(x, 0xc2b2ae35);
  return s32(x ^ ((x >>> 16) & 0xffff));
}

/** max of two sequence numbers */
export function seqMax(a: number, b: number): number {
  return after(a, b) ? a : b;
}

export function seqMin(a: number, b: number): number {
  return before(a, b) ? a : b;
}

/** b - a in sequence space: signed, -2^31 .. 2^31-1. */
export function seqDiff(b: number, a: number): number {
  return s32(b - a);
}

/** Read a 32-bit sequence number / timestamp in network order as s32. */
export function getSeq(b: Uint8Array, o: number): number {
  return s32((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

/** TCP/UDP pseudo-header sum (RFC 9293 §3.1) from s32 addresses, without leaving the Smi range. */
export function tcpPseudoSum(saddr: number, daddr: number, len: number): number {
  return ((saddr >>> 16) & 0xffff) + (saddr & 0xffff) + ((daddr >>> 16) & 0xffff) + (daddr & 0xffff) + 6 + len;
}

/** The TCP timestamp clock: milliseconds, 32 bits (s32). */
export function tcpTimeStamp(st: Stack): number {
  return s32(Math.floor(st.now()));
}

export function tcpInRange(seq: number, lo: number, hi: number): boolean {
  return !before(seq, lo) && !after(seq, hi);
}

/* ---- readiness events (same values as src/stack.ts EV_*; not imported to keep the module graph acyclic) ---- */
export const TEV_READABLE = 1;
export const TEV_WRITABLE = 2;
export const TEV_CONNECTED = 4;
export const TEV_CLOSED = 8;
export const TEV_ERROR = 16;

/** Deliver readiness for TCB t to whoever holds it. */
export function tcpEmit(st: Stack, t: number, ev: number): void {
  const tp = st.tcp;
  if (tp.owner[t] === OWN_APP) st.emit(tp.fd[t], ev);
}

/** Allocate a TCB (sk_alloc): state CLOSE, owned by the application. -1 when none is free. */
export function tcbAlloc(st: Stack): number {
  const tp = st.tcp;
  const c = st.cfg;
  for (let t = 0; t < tp.n; t++) {
    if (tp.state[t] !== TCP_FREE) continue;
    tp.state[t] = TCP_CLOSE;
    tp.owner[t] = OWN_APP;
    tp.fd[t] = t;
    tp.flags[t] = 0;
    tp.err[t] = 0;
    tp.softErr[t] = 0;
    tp.laddr[t] = 0;
    tp.raddr[t] = 0;
    tp.lport[t] = 0;
    tp.rport[t] = 0;
    tp.parent[t] = -1;
    tp.acceptNext[t] = -1;
    tp.acceptHead[t] = -1;
    tp.acceptLen[t] = 0;
    tp.backlog[t] = 0;
    tp.iss[t] = 0;
    tp.sndUna[t] = 0;
    tp.sndNxt[t] = 0;
    tp.sndMax[t] = 0;
    tp.sndWl1[t] = 0;
    tp.sndWl2[t] = 0;
    tp.sndWnd[t] = 0;
    tp.maxSndWnd[t] = 0;
    tp.sndBase[t] = 0;
    tp.writeSeq[t] = 0;
    tp.sndHead[t] = 0;
    tp.sndLimit[t] = tp.sndRing[t].length;
    tp.sndWscale[t] = 0;
    tp.irs[t] = 0;
    tp.rcvNxt[t] = 0;
    tp.rcvEdge[t] = 0;
    tp.rcvHead[t] = 0;
    tp.rcvCount[t] = 0;
    tp.rcvLimit[t] = tp.rcvRing[t].length;
    tp.rcvWscale[t] = 0;
    tp.rcvFinSeq[t] = 0;
    tp.rcvUnacked[t] = 0;
    tp.rcvMss[t] = TCP_MSS_DEFAULT;
    tp.smss[t] = TCP_MSS_DEFAULT;
    tp.advMss[t] = TCP_MSS_DEFAULT;
    tp.peerMss[t] = TCP_MSS_DEFAULT;
    tp.cwnd[t] = TCP_MSS_DEFAULT;
    tp.ssthresh[t] = 0x7fffffff;
    tp.recover[t] = 0;
    tp.highRxt[t] = 0;
    tp.dupAcks[t] = 0;
    tp.srtt8[t] = 0;
    tp.rttvar4[t] = 0;
    tp.rto[t] = c.tcpRtoInitMs;
    tp.backoff[t] = 0;
    tp.retransmits[t] = 0;
    tp.probesOut[t] = 0;
    tp.rttSeq[t] = 0;
    tp.rttTime[t] = 0;
    tp.rtxStart[t] = 0;
    tp.rtxTs[t] = 0;
    tp.rescueRxt[t] = 0;
    tp.rcvTstamp[t] = st.now();
    tp.oowLast[t] = -1e9;
    tp.tsRecent[t] = 0;
    tp.tsRecentStamp[t] = 0;
    tp.tsOffset[t] = 0;
    tp.keepIdle[t] = c.tcpKeepIdleMs;
    tp.keepIntvl[t] = c.tcpKeepIntvlMs;
    tp.keepCnt[t] = c.tcpKeepCnt;
    tp.userTimeout[t] = 0;
    tp.lingerMs[t] = 0;
    tp.oooN[t] = 0;
    tp.sbN[t] = 0;
    tp.quickAcks[t] = 0;
    if (FEATURE_TCP_RACK && tp.rk !== null) {
      tp.rk.rkN[t] = 0;
      tp.rk.rkHead[t] = 0;
    }
    return t;
  }
  return -1;
}

/** Stop every timer of t. */
export function tcpClearTimers(st: Stack, t: number): void {
  const tp = st.tcp;
  st.timers.del(tp.tRtx[t]);
  st.timers.del(tp.tDack[t]);
  st.timers.del(tp.tKeep[t]);
}

/** Remove child c from its listener's accept queue (if queued). */
export function tcpAcceptUnlink(st: Stack, c: number): void {
  const tp = st.tcp;
  const l = tp.parent[c];
  if (l < 0) return;
  let prev = -1;
  let x = tp.acceptHead[l];
  while (x >= 0) {
    if (x === c) {
      if (prev < 0) tp.acceptHead[l] = tp.acceptNext[x];
      else tp.acceptNext[prev] = tp.acceptNext[x];
      tp.acceptLen[l]--;
      break;
    }
    prev = x;
    x = tp.acceptNext[x];
  }
  tp.acceptNext[c] = -1;
  tp.parent[c] = -1;
}

/** Return the slot to the free pool (sk_free). */
export function tcbFree(st: Stack, t: number): void {
  const tp = st.tcp;
  if (tp.state[t] === TCP_FREE) return;
  tcpSetState(st, t, TCP_CLOSE);
  tcpClearTimers(st, t);
  if (tp.owner[t] === OWN_ACCEPTQ) tcpAcceptUnlink(st, t);
  tp.state[t] = TCP_FREE;
  tp.owner[t] = OWN_ORPHAN;
}

/** tcp_set_state: keeps CurrEstab / EstabResets. */
export function tcpSetState(st: Stack, t: number, ns: number): void {
  const tp = st.tcp;
  const old = tp.state[t];
  if (old === ns) return;
  const wasEst = old === TCP_ESTABLISHED || old === TCP_CLOSE_WAIT;
  const isEst = ns === TCP_ESTABLISHED || ns === TCP_CLOSE_WAIT;
  if (wasEst && !isEst) {
    tp.mib[TCP_CURRESTAB]--;
    if (ns === TCP_CLOSE) tp.mib[TCP_ESTABRESETS]++;
  } else if (!wasEst && isEst) {
    tp.mib[TCP_CURRESTAB]++;
  }
  tp.state[t] = ns;
}

/**
 * tcp_done: the connection is over (reset, timeout, or the last ACK/TIME_WAIT
 * handover). An orphan or a not-yet-accepted child is freed; a socket the
 * application holds stays in CLOSE until tcpClose, so it can read what is
 * left and see the error.
 */
export function tcpDone(st: Stack, t: number): void {
  const tp = st.tcp;
  tcpSetState(st, t, TCP_CLOSE);
  tcpClearTimers(st, t);
  tp.flags[t] |= F_RCV_SHUT | F_SND_SHUT;
  tp.oooN[t] = 0;
  tp.sbN[t] = 0;
  if (tp.owner[t] === OWN_APP) {
    tcpEmit(st, t, TEV_CLOSED | TEV_READABLE | (tp.err[t] !== 0 ? TEV_ERROR : 0));
  } else {
    tcbFree(st, t);
  }
}

/**
 * RFC 6528 initial sequence number: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey), M a 4 µs clock, F a keyed hash
 * (murmur3 finalizer rounds over the tuple and a 128-bit secret drawn
 * from st.rng at start-up). tp.isnOverride (tests) replaces it.
 */
export function tcpSecureIsn(st: Stack, laddr: number, lport: number, raddr: number, rport: number): number {
  const tp = st.tcp;
  if (tp.isnOverride >= 0) return s32(tp.isnOverride);
  const k = tp.secret;
  let h = fmix32(k[0] ^ laddr);
  h = fmix32(h ^ raddr ^ k[1]);
  h = fmix32(h ^ (((lport & 0xffff) << 16) | (rport & 0xffff)) ^ k[2]);
  h = fmix32(add32(h, k[3]));
  // M = floor(now * 250) mod 2^32 (4 µs ticks) from the whole milliseconds n
  // (n * 250 in 16-bit halves) and the fraction: nothing leaves the Smi range
  const now = st.now();
  const n = Math.floor(now);
  const lo = (n & 0xffff) * 250 + Math.floor((now - n) * 250);
  const m = ((((((n >>> 16) & 0xffff) * 250) & 0xffff) + (lo >>> 16)) & 0xffff) << 16 | (lo & 0xffff);
  return add32(h, m);
}

/**
 * Timestamp offset for a pair of addresses (Linux secure_tcp_ts_off): a
 * keyed hash, so clocks are not exposed and successive connections
 * between the same hosts see increasing timestamps (TIME_WAIT reuse, PAWS).
 */
export function tcpTsOffset(st: Stack, laddr: number, raddr: number): number {
  const k = st.tcp.secret;
  return fmix32(fmix32(laddr ^ k[2]) ^ raddr ^ k[3]);
}
