// http-counters.js: a web page with the board's address and the network counters
// (frames in/out, drops, TCP retransmissions, the chip's own counters), as JSON.
var eth = require("slabnet").setup({}, function (err, info) {
  if (err) throw err;
  print("Counters at http://" + info.ip + "/");
  require("http").createServer(function (req, res) {
    // eth.getIP(): { ip, subnet, gateway, dns, mac, dhcp }; eth.stats(): { rx, tx, ... }
    var page = { getIP: eth.getIP(), stats: eth.stats(), time: Math.round(getTime()) };   // getTime(): s
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(page) + "\n");
  }).listen(80);
});
// the network's events (optional): the cable, the lease
eth.on("link", function (up) { print("link " + (up ? "up" : "down")); });
eth.on("lease", function (info) { print("lease " + info.ip); });
