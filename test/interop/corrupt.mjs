// test/interop/corrupt.mjs — negative control for run.sh's tshark check:
// copies the first IPv4 frame sent by MAC from a classic pcap (slabnet's
// --pcap) into a new pcap twice, once with its IP header checksum broken
// and once with its last payload byte flipped (breaking the ICMP/UDP
// checksum). The checker must flag both.
// usage: node corrupt.mjs IN.pcap MAC OUT.pcap   (exit 1 when no frame found)
import { readFileSync, writeFileSync } from 'node:fs';

const [inFile, macStr, outFile] = process.argv.slice(2);
const mac = Buffer.from(macStr.split(':').map((h) => parseInt(h, 16)));
const b = readFileSync(inFile);
if (b.readUInt32LE(0) !== 0xa1b2c3d4 && b.readUInt32LE(0) !== 0xa1b23c4d) {
  console.error('corrupt.mjs: not a little-endian classic pcap');
  process.exit(1);
}
let o = 24;
let frame = null;
let hdr = null;
while (o + 16 <= b.length) {
  const incl = b.readUInt32LE(o + 8);
  const f = b.subarray(o + 16, o + 16 + incl);
  // from slabnet, IPv4, ICMP or UDP, not a fragment (so the transport checksum is checkable)
  if (f.length > 34 && f.subarray(6, 12).equals(mac) && f.readUInt16BE(12) === 0x0800 &&
      (f[23] === 1 || f[23] === 17) && (f.readUInt16BE(20) & 0x3fff) === 0) {
    frame = Buffer.from(f);
    hdr = Buffer.from(b.subarray(o, o + 16));
    break;
  }
  o += 16 + incl;
}
if (frame === null) {
  console.error('corrupt.mjs: no unfragmented IPv4 ICMP/UDP frame from ' + macStr);
  process.exit(1);
}
const badIp = Buffer.from(frame);
badIp[24] ^= 0x5a; // IP header checksum
const badL4 = Buffer.from(frame);
badL4[badL4.length - 1] ^= 0xff; // payload byte: transport checksum no longer matches
if (badL4[23] === 17 && badL4.readUInt16BE(40) === 0) badL4.writeUInt16BE(1, 40); // UDP without checksum: give it a wrong one
writeFileSync(outFile, Buffer.concat([b.subarray(0, 24), hdr, badIp, hdr, badL4]));
