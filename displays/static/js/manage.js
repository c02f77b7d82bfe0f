/*
 * Manager live view: waiting per category, the longest current wait, every window's state and
 * how long it has been in it, today's service level, devices offline. The live stream keeps
 * the counts; /api/halls/{hall}/live-summary gives what a snapshot lacks (times, devices).
 */
(function () {
  "use strict";
  var cfg = Hall.config();
  var hall = cfg.hall;
  var $ = function (id) { return document.getElementById(id); };
  // Logged in by the HttpOnly session cookie: the page never holds the token ("" = the cookie).
  var token = "";
  Hall.setToken("staff", "");  // a token stored by an older version of this page
  function remember(on) { try { localStorage.setItem("hall.manage.login", on ? "1" : ""); } catch (e) { /* memory */ } }
  function remembered() { try { return localStorage.getItem("hall.manage.login") === "1"; } catch (e) { return false; } }
  var state = null;
  var summary = null;
  var summaryAt = 0;
  var timer = null;
  var live = null;

  Hall.clock("g-clock");

  var show = Hall.showView;

  $("g-login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    Hall.api("POST", "/api/auth/login", { username: $("g-user").value, password: $("g-pass").value })
      .then(function () {
        remember(true); $("g-pass").value = "";
        $("g-login-error").classList.add("hidden"); start();
      }, function (err) {
        Hall.text("g-login-error", err.status === 401 ? Hall.say("staff.login_failed") : Hall.errorText(err));
        $("g-login-error").classList.remove("hidden");
      });
  });
  $("g-logout").addEventListener("click", function () {
    Hall.logout(); remember(false); if (live) { live.close(); live = null; } show("login");
  });

  function minutes(secs) { return secs === null || secs === undefined ? "-" : Math.floor(secs / 60) + " 分"; }

  function render() {
    if (!state) { return; }
    if (state.hall) { Hall.text("g-hall", state.hall.name + " · 实时监控"); }
    var elapsed = summary ? Date.now() / 1000 - summaryAt : 0;
    var total = 0;
    var tbody = $("g-categories");
    tbody.textContent = "";
    (state.categories || []).forEach(function (c) {
      var n = (state.waiting || {})[c.code] || 0;
      total += n;
      var longest = summary && summary.longest_by_category ? summary.longest_by_category[c.code] : null;
      tbody.appendChild(Hall.el("tr", { "data-category": c.code }, [
        Hall.el("td", { text: c.code + " " + c.name }),
        Hall.el("td", { class: "count", text: String(n) }),
        Hall.el("td", { text: longest === null || longest === undefined || n === 0 ? "-" : minutes(longest + elapsed) }),
      ]));
    });
    Hall.text("k-waiting", total);
    var wins = $("g-windows");
    wins.textContent = "";
    var since = (summary && summary.window_since) || {};
    (state.windows || []).forEach(function (w) {
      var s = since[String(w.number)];
      var label = Hall.say("manage.state." + w.state, null, w.state);
      if (w.state === "paused" && w.pause_reason) { label += "（" + w.pause_reason + "）"; }
      if (w.current) { label += " " + w.current.number; }
      wins.appendChild(Hall.el("tr", { "data-window": String(w.number) }, [
        Hall.el("td", { text: w.number + "号 " + w.name }),
        Hall.el("td", { text: w.staff_name || "-" }),
        Hall.el("td", {}, [Hall.el("span", { class: "st st-" + w.state, text: label })]),
        Hall.el("td", { text: s === undefined || s === null ? "-" : minutes(Date.now() / 1000 - s) }),
      ]));
    });
    if (summary) {
      var longest = summary.longest_wait;
      Hall.text("k-longest", longest && total ? minutes(longest.waited_seconds + elapsed) : "0 分");
      Hall.text("k-longest-sub", longest && total ? longest.number : "");
      var sl = summary.service_level || {};
      Hall.text("k-sl", sl.share === null || sl.share === undefined ? "-" : Math.round(sl.share * 100) + "%");
      Hall.text("k-sl-sub", sl.within_minutes ? sl.within_minutes + " 分钟内叫号（已叫 " + (sl.count || 0) + " 人）" : "");
      var off = summary.devices_offline || [];
      Hall.text("k-offline", off.length);
      $("k-offline").classList.toggle("bad", off.length > 0);
      Hall.text("k-offline-sub", off.length ? "" : Hall.say("manage.offline.none"));
      renderOffline(off);
    }
  }

  function windowName(number) {
    var w = ((state && state.windows) || []).filter(function (x) { return String(x.number) === String(number); })[0];
    return Hall.say("manage.window_of", { number: number }) + (w && w.name ? " " + w.name : "");
  }

  /** Offline devices as rows a manager reads: name, kind, where it is, since when. */
  function renderOffline(off) {
    var tbody = $("g-offline");
    tbody.textContent = "";
    Hall.text("g-offline-count", off.length ? off.length + " 台" : "");
    if (!off.length) {
      tbody.appendChild(Hall.el("tr", {}, [Hall.el("td", { colspan: "4", class: "muted", text: Hall.say("manage.offline.none") })]));
      return;
    }
    off.forEach(function (d) {
      var kind = Hall.say("manage.device." + d.kind, null, Hall.say("manage.device.other"));
      // A device registered without a name shows its kind and place, not its internal code.
      var name = d.name && d.name !== d.code && !/^[A-Za-z0-9_\-]+$/.test(d.name) ? d.name : Hall.say("manage.device.unnamed");
      var where = d.window ? windowName(d.window) : Hall.say("manage.hall_wide");
      var since = d.last_seen ? Hall.say("manage.offline.since", { since: Hall.hhmm(d.last_seen) }) : Hall.say("manage.offline.never");
      tbody.appendChild(Hall.el("tr", { "data-device": d.code }, [
        Hall.el("td", { text: name }), Hall.el("td", { text: kind }), Hall.el("td", { text: where }),
        Hall.el("td", { text: since }),
      ]));
    });
  }

  function loadSummary() {
    Hall.api("GET", "/api/halls/" + encodeURIComponent(hall) + "/live-summary", null, { token: token })
      .then(function (s) { summary = s; summaryAt = Date.now() / 1000; $("g-error").classList.add("hidden"); render(); },
        function (err) {
          if (err.status === 401) { show("login"); return; }
          $("g-error").textContent = Hall.errorText(err);
          $("g-error").classList.remove("hidden");
        });
  }
  function scheduleSummary() { clearTimeout(timer); timer = setTimeout(loadSummary, 500); }

  function start() {
    show("live");
    if (live) { live.close(); }
    live = Hall.live({ hall: hall, token: token,
      onSnapshot: function (s) { state = s; render(); scheduleSummary(); },
      onEvent: function (_e, s) { state = s; render(); scheduleSummary(); } });
  }

  setInterval(function () { render(); }, 15000);
  setInterval(loadSummary, 30000);
  if (remembered()) { start(); } else { show("login"); }
})();
