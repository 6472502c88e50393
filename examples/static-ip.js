// static-ip.js: a fixed address instead of DHCP, then a web page on it.
var eth = require("slabnet").setup({
  ip: "192.0.2.50",          // the board's address
  subnet: "255.255.255.0",
  gateway: "192.0.2.1",      // the router
  dns: "192.0.2.1"           // for require("http").get("http://name/...")
}, function (err, info) {
  if (err) throw err;
  print("Serving http://" + info.ip + "/ (static)");
  require("http").createServer(function (req, res) {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("Hello from slabnet at " + info.ip + " (static address, gateway " + info.gateway + ")\n");
  }).listen(80);
});
