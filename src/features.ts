/*
 * features.ts — compile-time feature switches (lwIP's opt.h `LWIP_xxx`
 * options). Not on the packet path itself: the layers test these constants
 * at the few call sites where an optional piece of the stack hangs off the
 * packet path (`if (FEATURE_REASSEMBLY) ... else drop and count`).
 *
 * Here every feature is on: Node, the tests and the Lua build get the whole
 * stack. The Espruino build (scripts/build-espruino.js, rollup.config.js)
 * replaces this module, per board, with the same constants set from the
 * board's `features` (boards/*.ts), so rollup and terser drop the dead
 * branches and every function only they reach. A board therefore pays
 * flash only for what it enables.
 *
 * Rules for these switches:
 * - Each is a `const NAME: boolean = true` here and nothing else (the build
 *   rewrites this file by pattern; keep one per line).
 * - Feature off must be a sane, documented behaviour (drop and count, or
 *   a -errno), never a crash. It must equal what the run-time config does
 *   when that config disables the feature, where there is one
 *   (FEATURE_FORWARD off = cfg.ipForward false).
 * - Guard at the call site, with the constant alone or first in an `&&`,
 *   so that the minifier sees `if (false)`.
 *
 * Runtime switches (RUNTIME_*) are not features: each is a
 * `const NAME: boolean = false` here (one per line), false for Node, the
 * tests and the Lua build (scripts/build-lua.js compiles this file as it
 * is); rollup.config.js (runtimeValues) sets them for every Espruino bundle
 * (generic, per board, test kit, selftest). They pick a runtime's fastest
 * code path at build time; both paths must compute the same bytes.
 */

/** ip_forward (RFC 1812 subset). Off: packets not for us are dropped and counted
 *  (IP InAddrErrors), exactly as with cfg.ipForward false. */
export const FEATURE_FORWARD: boolean = true;

/** netfilter hooks (PRE_ROUTING, LOCAL_IN, LOCAL_OUT, POST_ROUTING, FORWARD).
 *  Off: the hook points are skipped (every packet is NF_ACCEPTed);
 *  nfRegisterHook still succeeds but its hooks are never called. */
export const FEATURE_NETFILTER: boolean = true;

/** raw IPv4 sockets (SOCK_RAW, IP_HDRINCL). Off: socket(SOCK_RAW) returns
 *  -EINVAL (as for any unsupported type) and nothing is delivered to raw sockets. */
export const FEATURE_RAW: boolean = true;

/** IP reassembly (RFC 791 §3.2, ip_fragment.ts). Off: every fragment
 *  addressed to us is dropped and counted (IP ReasmFails), as with reasmSlots 0. */
export const FEATURE_REASSEMBLY: boolean = true;

/** IP fragmentation on output. Off: a datagram larger than the device MTU
 *  is dropped and counted (IP FragFails) and the send returns -EMSGSIZE,
 *  as if DF were set. */
export const FEATURE_FRAGMENT_OUT: boolean = true;

/** node-style dgram facade (src/socket/dgram.ts) in the Espruino bundle. */
export const FEATURE_DGRAM_FACADE: boolean = true;

/** errno names in messages (errnoName). Off: messages carry the number ("errno 11"). */
export const FEATURE_ERRNO_NAMES: boolean = true;

/** arpDump(): the ARP table as objects (reports and tests). */
export const FEATURE_ARP_DUMP: boolean = true;

/** UDP echo/discard services (src/apps/) exported by the Espruino bundle. */
export const FEATURE_UDP_SERVICES: boolean = true;

/** TCP (src/transport/tcp/). Not wired yet: when TCP joins the Stack, guard
 *  its registration (initTcp / inetAddProtocol) and SOCK_STREAM in the socket
 *  API with it; off = socket(SOCK_STREAM) returns -EPROTONOSUPPORT and TCP
 *  segments get ICMP protocol unreachable (no handler), as today. */
export const FEATURE_TCP: boolean = true;

/** TCP selective acknowledgments (RFC 2018, RFC 2883 D-SACK, RFC 6675
 *  SACK-based recovery). Off, exactly as cfg.tcpSack false: SACK-permitted
 *  is never offered nor echoed in a SYN-ACK, SACK options received are
 *  skipped as unknown options (RFC 9293 §3.1), no SACK blocks are sent and
 *  loss recovery is NewReno (RFC 6582) from three duplicate ACKs. */
export const FEATURE_TCP_SACK: boolean = true;

/** TCP RACK-TLP loss detection (RFC 8985) and recovery undo (RFC 3708
 *  D-SACK, RFC 3522 timestamps), src/transport/tcp/tcp_recovery.ts: a
 *  segment is lost when one sent later was delivered and a reordering
 *  window (min RTT / 4, grown on D-SACKs) has passed; tail loss probes
 *  instead of waiting for the RTO; after an RTO the lost segments are
 *  resent from the scoreboard under a slow-starting cwnd; a recovery shown
 *  spurious (D-SACKs, an old echoed timestamp, F-RTO) restores cwnd. Needs SACK (connections without it, and
 *  FEATURE_TCP_SACK off, use NewReno). Off, exactly as cfg.tcpRackSegs 0:
 *  no transmission records are kept; loss is DupThresh-based (RFC 6675
 *  IsLost, three duplicate ACKs), no probe timer, no undo. */
export const FEATURE_TCP_RACK: boolean = true;

/** TCP timestamps (RFC 7323 §3-§5: TSopt, RTTM, PAWS). Off, exactly as
 *  cfg.tcpTimestamps false: TSopt is never offered nor echoed in a SYN-ACK
 *  and TSopts received are skipped as unknown options (RFC 7323 §3.2: not
 *  negotiated, never sent); RTT is measured from one timed segment at a
 *  time with Karn's algorithm (RFC 6298 §3); no PAWS; a SYN-cookie SYN-ACK
 *  then carries only the MSS (as Linux without timestamps). */
export const FEATURE_TCP_TIMESTAMPS: boolean = true;

/** TCP window scaling (RFC 7323 §2). Off, exactly as cfg.tcpWindowScaling
 *  false: the window scale option is never offered nor echoed and WSopts
 *  received are skipped (RFC 7323 §2.2: both shifts 0), so every window, ours
 *  and the peer's, is at most 65535 bytes (a receive buffer above that is
 *  announced as 65535). */
export const FEATURE_TCP_WSCALE: boolean = true;

/** TCP out-of-order queueing (data beyond RCV.NXT kept in the receive ring,
 *  its ranges also the SACK blocks we send, RFC 2018 §4). Off: a segment
 *  starting beyond RCV.NXT is dropped (TCPExt TCPOFODrop) and answered at
 *  once with a duplicate ACK for RCV.NXT (RFC 5681 §4.2; RFC 9293 §3.10.7.4
 *  lets a receiver drop out-of-order segments), so the sender's fast
 *  retransmit or RTO resends from the hole: correct, only slower under loss
 *  or reordering. No SACK blocks are sent (D-SACKs still are with
 *  FEATURE_TCP_SACK). No run-time equivalent (cfg.tcpOooRanges sizes the queue). */
export const FEATURE_TCP_OOO: boolean = true;

/** TCP SYN cookies (RFC 4987 §3.6, tcp_syncookies.ts). Off, exactly as
 *  cfg.tcpSyncookies false: a SYN arriving at a full SYN queue is dropped and
 *  counted (TCPExt TCPReqQFullDrop, ListenDrops); the client's SYN
 *  retransmission (RFC 6298 §5) retries it; an ACK at a listener for no
 *  request is answered with a RST (RFC 9293 §3.10.7.2). */
export const FEATURE_TCP_SYNCOOKIES: boolean = true;

/** TCP keep-alives (RFC 1122 §4.2.3.6: optional, off by default). Off: no
 *  probes are ever sent; setsockopt/getsockopt of SO_KEEPALIVE on a stream
 *  socket and of TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT return -ENOPROTOOPT
 *  (the node-style setKeepAlive() is then a no-op). The same timer still runs
 *  the FIN_WAIT2 and SO_LINGER timeouts. No run-time equivalent. */
export const FEATURE_TCP_KEEPALIVE: boolean = true;

/** TCP path MTU discovery (RFC 1191: DF on every TCB segment, ICMP
 *  fragmentation-needed lowers the MSS and resends). Off: as a host that does
 *  not implement it (RFC 1191 §1, RFC 1122 §3.3.3; Linux
 *  IP_PMTUDISC_DONT): TCB segments are sent with DF clear, so a router on a
 *  smaller-MTU path fragments them and the receiver reassembles; the send MSS
 *  stays min(the peer's MSS option, our device MTU - 40) (RFC 9293 §3.7.1);
 *  ICMP fragmentation-needed for a connection is ignored (with DF clear it is
 *  stale or forged). SYN-ACKs and RSTs carry no DF either way. No run-time
 *  equivalent. */
export const FEATURE_TCP_PMTU: boolean = true;

/** counter names of the MIB blocks (src/core/mib.ts IP_NAMES ..., TCP_NAMES
 *  and TCPEXT_NAMES in src/transport/tcp/tcp.ts; ~1.2 KB of strings). Off:
 *  every block keeps all its counters at the same indexes (st.mib.ip[IP_X]
 *  is unchanged) but carries no names: MibBlock.names is null, nameOf(i),
 *  toObject(), get() and the HTTP status page use generic names "c0", "c1",
 *  ... ("c" + the counter index): get('c1') reads counter 1, get('InHdrErrors')
 *  returns -1 as for any unknown name. Node, the tests and Lua keep the names. */
export const FEATURE_MIB_NAMES: boolean = true;

/** DHCP client (src/apps/dhcp_client.ts, RFC 2131/2132, RFC 5227 probe)
 *  exported by the Espruino bundle. Off: addresses are static (ifconfig). */
export const FEATURE_DHCP: boolean = true;

/** DNS stub resolver (src/apps/dns_resolver.ts, RFC 1035) exported by the
 *  Espruino bundle. Off: only dotted quads. */
export const FEATURE_DNS: boolean = true;

/** Espruino's interpreter (true in every Espruino bundle). Guards the native
 *  paths of the packet path: byte copies through Uint8Array.prototype.set
 *  over a subarray view and RFC 1071 sums through E.sum over a Uint16Array
 *  view (src/core/bytes.ts, src/core/checksum.ts), where a per-byte
 *  JavaScript loop costs milliseconds per frame (DESIGN.md "what time goes
 *  to"). Off: the JavaScript loops, the fastest on V8 and in Lua (and
 *  allocation-free: the native paths create a view per call). */
export const RUNTIME_ESPRUINO: boolean = false;
