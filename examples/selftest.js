// selftest.js: needs no wiring. Two slabnet stacks of this board's bundle, joined back to back
// in this interpreter, find each other (ARP), exchange UDP and, when the bundle has TCP, a 4 KB
// stream checked byte for byte. Prints "selftest: N passed, M failed". (The compact bundles: Pico,
// WiFi, Original; the ESP32's general stack has its own, dist/selftest.js.)
var s = require("slabnet"), q = [], pass = 0, fail = 0, k;
if (!s.compactStack) throw new Error("selftest.js needs a compact bundle (Pico, WiFi, Original)");
function check(what, ok) { if (ok) pass++; else fail++; print((ok ? "ok   " : "FAIL ") + what); }
function ip(d) { return (192 << 24) | (2 << 8) | d; }        // 192.0.2.d
// stack d at 192.0.2.d: what it sends is queued (copied) for the other one
function stack(d, over) {
  var n = s.compactStack(over, [2, 0x73, 0x6c, 0, 0, d]);
  s.netAttach(n, { xmit: function (b, len) { q.push({ to: 3 - d, f: new Uint8Array(b.subarray(0, len)) }); } });
  s.netSetIp(n, ip(d), 0xffffff00 | 0, 0, 0);
  return n;
}
var A = stack(1, null), B = stack(2, { tcbs: 2, tcpBuf: 1024, udpSocks: 1, udpBuf: 600, arpSize: 2 });
function pump() {   // deliver the queued frames, run both stacks' timers
  for (var i = 0; i < 50 && q.length > 0; i++) { var m = q.shift(); s.netRxFrame(m.to === 1 ? A : B, m.f, m.f.length); }
  s.netTick(A); s.netTick(B);
}
// UDP A:5000 -> B:5001 (B reads it through its NetworkJS adapter: 8-byte header + data)
var nb = s.networkJsCompact(B), ub = nb.create(undefined, 5001, 2), ua = s.udpOpen(A, 5000);
var msg = E.toUint8Array("hello from A"), r = 0, got;
for (k = 0; k < 20 && r !== msg.length; k++) { r = s.udpSendTo(A, ua, ip(2), 5001, msg, 0, msg.length); pump(); }
check("ARP: A resolved 192.0.2.2 and sent", r === msg.length);
got = nb.recv(ub, 600, 2);
check("UDP: B received A's datagram", typeof got === "string" && got.substr(8) === "hello from A");
if (typeof s.tcpListen === "function") {   // bundles with TCP
  var L = s.tcpListen(B, 7), t = s.tcpConnect(A, ip(2), 7), u = -1, N = 4000, sent = 0, n = 0, bad = 0;
  var out = new Uint8Array(N), inb = new Uint8Array(N);
  for (k = 0; k < N; k++) out[k] = (k * 7 + (k >> 8)) & 255;
  for (k = 0; k < 50 && u < 0; k++) { pump(); u = s.tcpAccept(B, L); }
  check("TCP: B accepted A's connection", u >= 0);
  for (k = 0; k < 1000 && n < N && u >= 0; k++) {
    if (sent < N) { var w = s.tcpSend(A, t, out, sent, N - sent); if (w > 0) sent += w; }
    pump();
    var g = s.tcpRecv(B, u, inb.subarray(n), N - n); if (g > 0) n += g;
  }
  for (k = 0; k < N; k++) if (inb[k] !== out[k]) bad++;
  check("TCP: " + N + " bytes A to B, byte for byte", n === N && bad === 0);
}
print("selftest: " + pass + " passed, " + fail + " failed");
