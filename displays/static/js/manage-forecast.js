/*
 * Manager view: the live forecast's bands per zone and quarter hour, from
 * /api/halls/{hall}/forecast (made every few minutes by the server, never on request). The
 * words are the catalogue's, rendered into the page; this script only fills in figures.
 */
(function () {
  "use strict";
  var hall = Hall.config().hall;
  var $ = function (id) { return document.getElementById(id); };
  var metaWords = $("f-meta").dataset.words || "";
  var none = $("f-risk").dataset.none || "";

  function band(b) {
    if (!b || b.p50 === null) { return "-"; }
    return Math.round(b.p50) + "（" + Math.round(b.p10) + "–" + Math.round(b.p90) + "）";
  }
  function mins(s) {
    if (s.person_p50_minutes === null) { return ""; }
    return " / " + Math.round(s.person_p50_minutes) + "–" + Math.round(s.person_p90_minutes);
  }

  function render(f) {
    $("f-none").classList.add("hidden");
    $("f-stale").classList.toggle("hidden", !f.stale);
    var sl = f.service_level || {};
    Hall.text("f-sl", sl.p50 === null ? "-" : Math.round(sl.p50 * 100) + "%（" +
      Math.round(sl.p10 * 100) + "–" + Math.round(sl.p90 * 100) + "%）");
    Hall.text("f-risk", f.at_risk.length ? f.at_risk.join("、") : none);
    Hall.text("f-meta", metaWords.replace("{age}", String(Math.round(f.age_seconds / 60)))
      .replace("{replications}", String(f.replications)));
    var head = $("f-head");
    while (head.children.length > 1) { head.removeChild(head.lastChild); }
    var first = f.zones[0] ? f.zones[0].slots : [];
    first.forEach(function (s) { head.appendChild(Hall.el("th", { text: s.start })); });
    var body = $("f-zones");
    body.textContent = "";
    f.zones.forEach(function (z) {
      var cells = [Hall.el("td", { text: z.name || z.zone })];
      z.slots.forEach(function (s) {
        cells.push(Hall.el("td", { class: "count", "data-start": s.start, text: band(s.waiting) + mins(s) }));
      });
      body.appendChild(Hall.el("tr", { "data-zone": z.zone }, cells));
    });
  }

  function load() {
    if (document.body.dataset.view !== "live") { return; }  // not logged in yet
    // the session cookie authenticates ("" token), as for the rest of the manager view
    Hall.api("GET", "/api/halls/" + encodeURIComponent(hall) + "/forecast", null, { token: "" })
      .then(render, function (err) {
        if (err.status === 404) { $("f-none").classList.remove("hidden"); }
      });
  }

  // the answer is the server's cached forecast, cheap to ask for; a new one comes every few minutes
  load();
  setInterval(load, 5000);
})();
