/*
 * 一窗口一码: the phone page a window's printed QR code opens. The person types the short code
 * the window gave at finish, picks a level (the bottom two ask a reason) and submits once.
 */
(function () {
  "use strict";
  var cfg = Hall.config();
  var $ = function (id) { return document.getElementById(id); };
  var level = null;

  function bad() { return level !== null && level <= 2; }
  function reasons() {
    return Array.prototype.map.call(document.querySelectorAll("#q-reasons input:checked"), function (i) { return i.value; });
  }
  function update() {
    $("q-reasons").classList.toggle("hidden", !bad());
    var ok = /^\d+$/.test($("q-code").value) && $("q-code").value.length === $("q-code").maxLength && level !== null;
    $("q-submit").disabled = !ok || (bad() && reasons().length === 0);
  }
  document.querySelectorAll(".m-lv").forEach(function (b) {
    b.addEventListener("click", function () {
      level = Number(b.dataset.level);
      document.querySelectorAll(".m-lv").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
      update();
    });
  });
  $("q-code").addEventListener("input", update);
  $("q-reasons").addEventListener("change", update);
  $("q-submit").addEventListener("click", function () {
    $("q-submit").disabled = true;
    Hall.api("POST", "/api/halls/" + encodeURIComponent(cfg.hall) + "/windows/" + cfg.window + "/qr-rating",
      { code: $("q-code").value, level: level, reasons: bad() ? reasons() : [] })
      .then(function () {
        $("q-note").textContent = Hall.say("rate.thanks");
        document.querySelectorAll(".m-lv, #q-code").forEach(function (n) { n.disabled = true; });
      }, function (err) {
        $("q-note").textContent = err && err.code ? Hall.errorText(err) : Hall.say("rate.failed");
        update();
      });
  });
})();
