// http-client.js: once the board has its DHCP lease, fetch a page by host name
// (the name is resolved through the DNS server the lease gave) and count its bytes.
var URL = "http://www.lan/bytes/3000";

require("slabnet").setup({}, function (err, info) {
  if (err) throw err;
  print("Leased " + info.ip + ", DNS server " + info.dns);
  print("GET " + URL);
  require("http").get(URL, function (res) {
    var bytes = 0;
    res.on("data", function (d) { bytes += d.length; });   // chunks as they arrive
    res.on("close", function () {
      print("status " + res.statusCode + ", " + bytes + " bytes");
    });
  }).on("error", function (e) {
    print("GET failed: " + e.message);
  });
});
