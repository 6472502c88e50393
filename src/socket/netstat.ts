/*
 * netstat.ts — an `ss`/`netstat`-style listing of every socket of a stack:
 * UDP and raw sockets, TCP connections (including listeners, connections
 * waiting in an accept queue and orphans the application has closed),
 * request socks (SYN_RECV in the SYN queue) and TIME_WAIT minisocks, with
 * their queues and, for TCP, RTT/RTO/cwnd (as `ss -tani` shows them).
 *
 * Reports only: allocates (rows, strings). Not on any packet path.
 * Queue semantics follow ss(8): for a listener Recv-Q is the accept queue
 * length and Send-Q the backlog; for a connection Recv-Q is unread bytes
 * and Send-Q bytes not yet acknowledged by the peer.
 */
import type { Stack } from '../stack';
import { formatIp } from '../link/ifaddr';
import { SS_OPEN, SOCK_DGRAM, SOCK_RAW } from './sock';
import {
  TCP_FREE, TCP_LISTEN, TCP_STATE_NAMES, TCP_SYN_RECV, TCP_TIME_WAIT, OWN_ORPHAN, OWN_ACCEPTQ,
} from '../transport/tcp/tcp';
import { s32 } from '../core/bits';
import { FEATURE_TCP } from '../features';

export interface SocketRow {
  /** 'tcp' | 'udp' | 'raw' */
  proto: string;
  state: string;
  recvQ: number;
  sendQ: number;
  local: string;
  peer: string;
  /** socket fd, -1 when no application holds it (orphan, accept queue, minisock) */
  fd: number;
  /** TCP: smoothed RTT and RTT variance (ms), RTO (ms), cwnd and ssthresh (segments), MSS; -1 when not applicable */
  rttMs: number;
  rttVarMs: number;
  rtoMs: number;
  cwnd: number;
  ssthresh: number;
  mss: number;
  /** who holds it: 'app', 'orphan', 'acceptq', 'synq', 'timewait' */
  owner: string;
}

function ep(addr: number, port: number): string {
  return (addr === 0 ? '*' : formatIp(addr)) + ':' + (port === 0 ? '*' : String(port));
}

function row(proto: string, state: string, local: string, peer: string, fd: number, owner: string): SocketRow {
  return {
    proto: proto, state: state, recvQ: 0, sendQ: 0, local: local, peer: peer, fd: fd,
    rttMs: -1, rttVarMs: -1, rtoMs: -1, cwnd: -1, ssthresh: -1, mss: -1, owner: owner,
  };
}

/** Every socket of st, TCP first (by TCB), then UDP/raw (by fd), then minisocks. */
export function socketList(st: Stack): SocketRow[] {
  const rows: SocketRow[] = [];
  if (FEATURE_TCP && st.tcp !== undefined) {
    const tp = st.tcp;
    for (let t = 0; t < tp.n; t++) {
      const s = tp.state[t];
      if (s === TCP_FREE) continue;
      const own = tp.owner[t];
      const r = row(
        'tcp', TCP_STATE_NAMES[s], ep(tp.laddr[t], tp.lport[t]), ep(tp.raddr[t], tp.rport[t]),
        own === OWN_ORPHAN || own === OWN_ACCEPTQ ? -1 : tp.fd[t],
        own === OWN_ORPHAN ? 'orphan' : own === OWN_ACCEPTQ ? 'acceptq' : 'app',
      );
      if (s === TCP_LISTEN) {
        r.recvQ = tp.acceptLen[t];
        r.sendQ = tp.backlog[t];
      } else {
        r.recvQ = tp.rcvCount[t];
        r.sendQ = s32(tp.writeSeq[t] - tp.sndUna[t]);
        if (r.sendQ < 0) r.sendQ = 0;
        r.rttMs = tp.srtt8[t] / 8;
        r.rttVarMs = tp.rttvar4[t] / 4;
        r.rtoMs = tp.rto[t];
        const mss = tp.smss[t] > 0 ? tp.smss[t] : 1;
        r.mss = tp.smss[t];
        r.cwnd = Math.floor(tp.cwnd[t] / mss);
        r.ssthresh = Math.floor(tp.ssthresh[t] / mss);
      }
      rows.push(r);
    }
    for (let i = 0; i < tp.rqN; i++) {
      if (tp.rqUsed[i] === 0) continue;
      rows.push(row('tcp', TCP_STATE_NAMES[TCP_SYN_RECV], ep(tp.rqLaddr[i], tp.rqLport[i]), ep(tp.rqRaddr[i], tp.rqRport[i]), -1, 'synq'));
    }
    for (let i = 0; i < tp.twN; i++) {
      if (tp.twUsed[i] === 0) continue;
      rows.push(row('tcp', TCP_STATE_NAMES[TCP_TIME_WAIT], ep(tp.twLaddr[i], tp.twLport[i]), ep(tp.twRaddr[i], tp.twRport[i]), -1, 'timewait'));
    }
  }
  const sk = st.sock;
  for (let fd = 0; fd < sk.max; fd++) {
    if (sk.state[fd] !== SS_OPEN) continue;
    const ty = sk.type[fd];
    if (ty !== SOCK_DGRAM && ty !== SOCK_RAW) continue;
    const r = row(
      ty === SOCK_DGRAM ? 'udp' : 'raw',
      sk.connected[fd] !== 0 ? 'ESTAB' : 'UNCONN',
      ep(sk.laddr[fd], ty === SOCK_DGRAM ? sk.lport[fd] : sk.proto[fd]),
      ep(sk.raddr[fd], sk.rport[fd]),
      fd,
      'app',
    );
    r.recvQ = sk.rcvq[fd].bytes;
    rows.push(r);
  }
  return rows;
}

function pad(s: string, n: number): string {
  let r = s;
  while (r.length < n) r += ' ';
  return r;
}

/** The rows as `ss -tuani`-like text, one socket per line, with a header. */
export function formatSocketList(rows: SocketRow[]): string {
  let out = pad('Netid', 6) + pad('State', 12) + pad('Recv-Q', 8) + pad('Send-Q', 8) + pad('Local', 22) + pad('Peer', 22) + 'Info\n';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    let info = r.fd >= 0 ? 'fd=' + r.fd : r.owner;
    if (r.rtoMs >= 0) {
      info += ' rtt:' + r.rttMs.toFixed(1) + '/' + r.rttVarMs.toFixed(1) + ' rto:' + r.rtoMs + ' mss:' + r.mss + ' cwnd:' + r.cwnd;
      if (r.ssthresh > 0 && r.ssthresh < 0x3fffffff) info += ' ssthresh:' + r.ssthresh;
    }
    out +=
      pad(r.proto, 6) + pad(r.state, 12) + pad(String(r.recvQ), 8) + pad(String(r.sendQ), 8) + pad(r.local, 22) + pad(r.peer, 22) + info + '\n';
  }
  return out;
}
