// hello-server.js: a web page on the board's DHCP address (ENC28J60 or W5500 on its SPI pins)
var eth = require("slabnet").setup({}, function (err, info) {
  if (err) throw err;
  print("Serving http://" + info.ip + "/");
  require("http").createServer(function (req, res) {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("Hello from slabnet on " + eth.getIP().ip + "\n");
  }).listen(80);
});
