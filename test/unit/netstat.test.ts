/*
 * netstat.test.ts — the ss-style socket listing (src/socket/netstat.ts):
 * listeners with their accept queue, established connections with queues
 * and RTT, UDP sockets, and TIME_WAIT minisocks after an active close.
 */
import { describe, it, expect } from 'vitest';
import { socket, bind, listen, accept, connect, send, recv, close, SOCK_STREAM, SOCK_DGRAM, IPPROTO_UDP } from '../../src/socket/socket';
import { socketList, formatSocketList } from '../../src/socket/netstat';
import { EINPROGRESS } from '../../src/core/errno';
import { tcpPair, run, runUntil, IP_B, expectClean } from './tcp_util';
import { closeAllFds } from './socket_tcp_util';

describe('socketList / formatSocketList', () => {
  it('lists listeners, connections with queues and RTT, UDP sockets and TIME_WAIT', () => {
    const e = tcpPair();
    const l = socket(e.b, SOCK_STREAM, 0);
    expect(bind(e.b, l, 0, 8080)).toBe(0);
    expect(listen(e.b, l, 3)).toBe(0);
    const u = socket(e.b, SOCK_DGRAM, IPPROTO_UDP);
    expect(bind(e.b, u, 0, 5353)).toBe(0);
    const c = socket(e.a, SOCK_STREAM, 0);
    expect(connect(e.a, c, IP_B, 8080)).toBe(-EINPROGRESS);
    run(e, 50);

    // not yet accepted: the listener's Recv-Q is 1, backlog 3
    let rows = socketList(e.b);
    const lst = rows.filter((r) => r.state === 'LISTEN');
    expect(lst.length).toBe(1);
    expect(lst[0].local).toBe('*:8080');
    expect(lst[0].recvQ).toBe(1);
    expect(lst[0].sendQ).toBe(3);
    expect(rows.filter((r) => r.owner === 'acceptq').length).toBe(1);
    const udp = rows.filter((r) => r.proto === 'udp');
    expect(udp.length).toBe(1);
    expect(udp[0].state).toBe('UNCONN');
    expect(udp[0].local).toBe('*:5353');

    let s = -1;
    expect(runUntil(e, () => (s = accept(e.b, l, null)) >= 0, 1000)).toBe(true);
    // 3000 bytes sent, unread by B: B's Recv-Q counts them once they arrive
    const data = new Uint8Array(3000);
    expect(send(e.a, c, data, 0, data.length)).toBe(3000);
    run(e, 100);
    rows = socketList(e.b);
    const est = rows.filter((r) => r.state === 'ESTABLISHED' && r.fd === s);
    expect(est.length).toBe(1);
    expect(est[0].recvQ).toBe(3000);
    expect(est[0].peer.startsWith('192.0.2.')).toBe(true);
    const ra = socketList(e.a).filter((r) => r.fd === c);
    expect(ra.length).toBe(1);
    expect(ra[0].sendQ).toBe(0); // all acknowledged
    expect(ra[0].rtoMs).toBeGreaterThan(0);
    expect(ra[0].mss).toBeGreaterThan(500);
    expect(ra[0].cwnd).toBeGreaterThan(0);

    const text = formatSocketList(rows);
    expect(text.split('\n')[0]).toMatch(/^Netid\s+State\s+Recv-Q\s+Send-Q\s+Local\s+Peer/);
    expect(text).toMatch(/tcp\s+LISTEN\s+0\s+3\s+\*:8080/);
    expect(text).toMatch(/udp\s+UNCONN\s+0\s+0\s+\*:5353/);

    // B reads everything (closing with unread data would answer RST, RFC 2525),
    // then A closes first: A ends in TIME_WAIT (a minisock or the TCB itself)
    const sink = new Uint8Array(4096);
    expect(recv(e.b, s, sink, 0, sink.length)).toBe(3000);
    close(e.a, c);
    close(e.b, s);
    run(e, 200);
    const tw = socketList(e.a).filter((r) => r.state === "TIME_WAIT");
    expect(tw.length).toBe(1);
    expect(tw[0].fd).toBe(-1);

    closeAllFds(e.b);
    expectClean(e);
    expect(socketList(e.a).length).toBe(0);
    expect(socketList(e.b).length).toBe(0);
  });
});
