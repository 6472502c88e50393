#!/usr/bin/env python3
# test/interop/zerowin.py — sockstress-style zero-window clients for
# hostile.sh: N TCP connections with a tiny receive buffer (SO_RCVBUF set
# before connect, so the window is small and unscaled) each send
# `GET PATH` and never read: the kernel's receive queue fills and it
# advertises a zero window (RFC 9293 §3.8.6.1) for as long as we hold them.
# usage: python3 zerowin.py HOST PORT N PATH HOLD_SECONDS [A.B.C.BASE NADDR]
# (connection i from local address BASE + i mod NADDR when given)
# prints `zerowin: K of N connected and sent the request in T ms`, holds the
# connections HOLD_SECONDS (or until killed), then closes them with RST
# (SO_LINGER 0) and prints `zerowin: done`.
import socket, struct, sys, time

if len(sys.argv) not in (6, 8):
    sys.stderr.write('usage: python3 zerowin.py HOST PORT N PATH HOLD_SECONDS [A.B.C.BASE NADDR]\n')
    sys.exit(2)
host, port, n, path, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
base, naddr = (sys.argv[6].rsplit('.', 1), int(sys.argv[7])) if len(sys.argv) == 8 else (None, 1)
t0 = time.time()
socks, errors = [], []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # the kernel's minimum
    s.settimeout(5)
    if base:
        s.bind(('%s.%d' % (base[0], int(base[1]) + i % naddr), 0))
    try:
        s.connect((host, port))
        s.sendall(('GET %s HTTP/1.1\r\nHost: zerowin\r\n\r\n' % path).encode())
        socks.append(s)
    except OSError as e:
        errors.append(str(e))
        s.close()
print('zerowin: %d of %d connected and sent the request in %d ms%s' % (
    len(socks), n, (time.time() - t0) * 1000, (', errors: ' + '; '.join(sorted(set(errors)))) if errors else ''), flush=True)
time.sleep(hold)
for s in socks:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
print('zerowin: done', flush=True)
