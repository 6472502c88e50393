// udp-sensor.js: every 2 seconds, broadcast a small JSON reading on UDP port 5555
// (any PC on the LAN can listen: `nc -ul 5555` or `socat - UDP-RECV:5555`).
var PORT = 5555, EVERY_MS = 2000, count = 0;

// the reading: a counter, plus the chip's temperature where the board has a sensor
function reading() {
  var r = { n: count++ };
  var t = E.getTemperature ? E.getTemperature() : NaN;
  if (isFinite(t)) r.temp = Math.round(t * 10) / 10;   // degrees C
  return r;
}

require("slabnet").setup({}, function (err, info) {
  if (err) throw err;
  print("Sending from " + info.ip + " to 255.255.255.255:" + PORT);
  var sock = require("dgram").createSocket("udp4");
  setInterval(function () {
    var msg = JSON.stringify(reading());
    sock.send(msg, 0, msg.length, PORT, "255.255.255.255");
  }, EVERY_MS);
});
