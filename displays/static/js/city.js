/*
 * City view (全市政务服务实时总览): every hall and station the manager may see, one row each,
 * from /api/city (the same figures as each hall's own manager view), refreshed every 10 s and
 * sortable by any column; a hall's name opens its own live view.
 */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  // Logged in by the HttpOnly session cookie, like the manager view: the page never holds a token.
  var token = "";
  var sortKey = "name";
  var descending = false;
  var timer = null;

  Hall.clock("g-clock");

  var show = Hall.showView;

  function minutes(secs) { return secs === null || secs === undefined ? "-" : Hall.say("city.minutes", { n: Math.floor(secs / 60) }); }
  function pct(share) { return share === null || share === undefined ? "-" : (share * 100).toFixed(1) + "%"; }

  /** A site's replication: nothing for a hall this server runs; its lag while its link is down. */
  function sync(r) {
    if (!r) { return Hall.el("span", {}); }
    if (r.link_down) {
      var lag = r.lag_seconds;
      var text = lag === null ? Hall.say("city.sync.never")
        : lag < 120 ? Hall.say("city.sync.seconds", { n: Math.round(lag) })
        : Hall.say("city.sync.minutes", { n: Math.round(lag / 60) });
      return Hall.el("span", { class: "c-sync bad", "data-sync": "down", text: text });
    }
    return Hall.el("span", { class: "c-sync", "data-sync": "ok", text: Hall.say("city.sync.ok") });
  }

  function render(data) {
    var t = data.totals;
    Hall.text("c-waiting", t.waiting);
    Hall.text("c-halls", Hall.say("city.halls", { halls: t.halls, open: t.windows_open, total: t.windows_total }));
    Hall.text("c-longest", minutes(t.longest_wait_seconds));
    Hall.text("c-sl", pct(t.service_level));
    Hall.text("c-bad", pct(t.bad_share));
    Hall.text("c-bad-sub", Hall.say("city.ratings", { ratings: t.ratings, bad: t.bad_ratings, cases: t.cases_open,
      overdue: t.cases_overdue }));
    var body = $("c-halls-body");
    body.textContent = "";
    data.halls.forEach(function (h) {
      var link = Hall.el("a", { href: "/manage/" + encodeURIComponent(h.code), text: h.name });
      body.appendChild(Hall.el("tr", { "data-hall": h.code }, [
        Hall.el("td", {}, [link, Hall.el("span", { class: "c-kind", text: Hall.say("city.kind." + h.kind, null, "") }), sync(h.replication)]),
        Hall.el("td", { class: "count", text: String(h.waiting) }),
        Hall.el("td", { text: minutes(h.longest_wait_seconds) }),
        Hall.el("td", { class: h.service_level !== null && h.service_level < 0.8 ? "bad" : "", text: pct(h.service_level) }),
        Hall.el("td", { text: h.windows_open + " / " + h.windows_total }),
        Hall.el("td", { class: h.devices_offline ? "bad" : "", text: String(h.devices_offline) }),
        Hall.el("td", { text: String(h.ratings) }),
        Hall.el("td", { text: pct(h.bad_share) }),
        Hall.el("td", { text: String(h.cases_open) }),
        Hall.el("td", { class: h.cases_overdue ? "bad" : "", text: String(h.cases_overdue) }),
      ]));
    });
    document.querySelectorAll("#c-table th button").forEach(function (b) {
      var on = b.dataset.sort === sortKey;
      b.parentNode.setAttribute("aria-sort", on ? (descending ? "descending" : "ascending") : "none");
    });
  }

  function load() {
    var path = "/api/city?sort=" + encodeURIComponent(sortKey) + (descending ? "&desc=1" : "");
    return Hall.api("GET", path, null, { token: token }).then(function (data) {
      $("g-error").classList.add("hidden");
      show("live");
      render(data);
    }, function (err) {
      if (err.status === 401 || err.status === 403) { stop(); show("login"); return; }
      $("g-error").textContent = Hall.say("city.stale");
      $("g-error").classList.remove("hidden");
    });
  }

  function stop() { if (timer) { clearInterval(timer); timer = null; } }

  function start() {
    load();
    stop();
    timer = setInterval(load, 10000);
  }

  document.querySelectorAll("#c-table th button").forEach(function (b) {
    b.addEventListener("click", function () {
      if (sortKey === b.dataset.sort) { descending = !descending; }
      else { sortKey = b.dataset.sort; descending = sortKey !== "name"; }
      load();
    });
  });

  $("c-export").addEventListener("click", function (ev) {
    ev.preventDefault();
    fetch("/api/city/ratings-export?format=csv", { credentials: "same-origin" })
      .then(function (r) { return r.blob(); })
      .then(function (blob) {
        var a = Hall.el("a", { href: URL.createObjectURL(blob), download: "全市好差评.csv" });
        document.body.appendChild(a); a.click(); a.remove();
      });
  });

  $("g-login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    Hall.api("POST", "/api/auth/login", { username: $("g-user").value, password: $("g-pass").value })
      .then(function () { $("g-pass").value = ""; $("g-login-error").classList.add("hidden"); start(); },
        function () {
          $("g-login-error").textContent = Hall.say("staff.login_failed");
          $("g-login-error").classList.remove("hidden");
        });
  });
  $("g-logout").addEventListener("click", function () { Hall.logout(); stop(); show("login"); });

  // A session cookie may already be there: try the data, which shows the login form on 401.
  start();
})();
