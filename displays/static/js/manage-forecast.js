/*
 * The live forecast panel (templates/_forecast.html) on the manager view and /ops/{hall}/live:
 * bands per zone and quarter hour, the day's service level against the target, the hours at
 * risk, and the 潮汐 advice with its button, from /api/halls/{hall}/forecast (made every few
 * minutes by the server, never on request). The words are the catalogue's, rendered into the
 * page; this script only fills in figures. It needs nothing else on the page: the session
 * cookie authenticates, and a write echoes the CSRF cookie (double submit).
 */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var panel = $("g-forecast");
  if (!panel) { return; }
  var hall = panel.dataset.hall;
  var gate = panel.dataset.gate || "";
  var words = JSON.parse(panel.dataset.words || "{}");
  var metaWords = $("f-meta").dataset.words || "";
  var none = $("f-risk").dataset.none || "";
  var base = "/api/halls/" + encodeURIComponent(hall) + "/forecast";

  function fill(template, params) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, k) {
      return params[k] !== undefined && params[k] !== null ? String(params[k]) : m;
    });
  }
  function text(id, s) { $(id).textContent = s; }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function request(method, path) {
    var headers = { "Content-Type": "application/json" };
    if (method !== "GET") { headers["X-CSRF-Token"] = cookie("hall_csrf"); }
    return fetch(path, { method: method, credentials: "same-origin", headers: headers,
                         body: method === "GET" ? undefined : "{}" })
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) { var e = new Error(j.error || ""); e.status = r.status; e.code = j.error; throw e; }
          return j;
        });
      });
  }

  function band(b) {
    if (!b || b.p50 === null) { return "-"; }
    return Math.round(b.p50) + "（" + Math.round(b.p10) + "–" + Math.round(b.p90) + "）";
  }
  function pct(b) {
    if (!b || b.p50 === null) { return "-"; }
    return Math.round(b.p50 * 100) + "%（" + Math.round(b.p10 * 100) + "–" + Math.round(b.p90 * 100) + "%）";
  }
  function mins(s) {
    if (s.person_p50_minutes === null) { return ""; }
    return " / " + Math.round(s.person_p50_minutes) + "–" + Math.round(s.person_p90_minutes);
  }

  function adviceText(a) {
    var key = a.kind;
    if (a.kind === "open" && a.paused) { key = "open_paused"; }
    if (a.kind === "open_many" && a.apply === "resume") { key = "open_many_paused"; }
    return fill(words.hour, { hour: a.hour }) + "：" + fill(words[key], {
      window: a.window, windows: (a.windows || []).join("、"), from_zone: a.from_zone_name, to_zone: a.to_zone_name,
      category: a.category, at: a.at });
  }

  function say(message) {
    var msg = $("f-advice-msg");
    msg.textContent = message;
    msg.classList.toggle("hidden", !message);
  }

  function apply(a, button) {
    button.disabled = true;
    request("POST", base + "/advice/" + encodeURIComponent(a.id) + "/apply").then(function () {
      say(words.applied);
      load();
    }, function (err) {
      button.disabled = false;
      say(words[err.code] || fill(words.error, { status: err.status || "" }));
      if (err.code === "advice_stale") { shown = null; load(); }  // show the latest advice at once
    });
  }

  function renderAdvice(f) {
    var list = $("f-advice");
    list.textContent = "";
    var advice = f.advice || [];
    if (!advice.length) { list.appendChild(el("li", { class: "kpi-sub", text: list.dataset.none })); }
    advice.forEach(function (a) {
      var sl = a.service_level || {};
      var parts = [
        el("b", { text: adviceText(a) }),
        el("span", { class: "kpi-sub", text: " " + fill(words.figures, {
          without: pct(sl.without), "with": pct(sl["with"]), replications: a.replications }) })];
      if (!a.keeps_target) { parts.push(el("span", { class: "kpi-sub", text: " " + words.not_enough })); }
      if (a.apply && !f.stale) {
        var button = el("button", { type: "button", class: "f-apply", "data-advice": a.id, text: words.apply });
        button.addEventListener("click", function () { apply(a, button); });
        parts.push(button);
      } else {
        parts.push(el("span", { class: "kpi-sub", text: " " + words.by_hand }));
      }
      list.appendChild(el("li", { "data-kind": a.kind, "data-window": a.window === null ? "" : String(a.window) }, parts));
    });
  }

  function render(f) {
    $("f-none").classList.add("hidden");
    $("f-stale").classList.toggle("hidden", !f.stale);
    text("f-sl", pct(f.service_level));
    text("f-target", fill(words.target, { target: Math.round(f.target * 100) + "%" }));
    text("f-risk", f.at_risk.length ? f.at_risk.join("、") : none);
    text("f-meta", metaWords.replace("{age}", String(Math.round(f.age_seconds / 60)))
      .replace("{replications}", String(f.replications)));
    var head = $("f-head");
    while (head.children.length > 1) { head.removeChild(head.lastChild); }
    var first = f.zones[0] ? f.zones[0].slots : [];
    first.forEach(function (s) { head.appendChild(el("th", { text: s.start })); });
    var body = $("f-zones");
    body.textContent = "";
    f.zones.forEach(function (z) {
      var cells = [el("td", { text: z.name || z.zone })];
      z.slots.forEach(function (s) {
        // two short lines (people, then minutes), each kept whole: thirteen quarter hours fit
        var parts = [el("span", { text: band(s.waiting) })];
        if (mins(s)) { parts.push(el("span", { text: mins(s) })); }
        cells.push(el("td", { class: "count", "data-start": s.start }, parts));
      });
      body.appendChild(el("tr", { "data-zone": z.zone }, cells));
    });
    renderAdvice(f);
  }

  var shown = null;  // the computed_at on screen: advice is redrawn only when a new one comes
  function load() {
    if (gate && document.body.dataset.view !== gate) { return; }  // not logged in yet
    request("GET", base).then(function (f) {
      if (shown === f.computed_at && !f.stale) {  // the same forecast: only its age moved
        text("f-meta", metaWords.replace("{age}", String(Math.round(f.age_seconds / 60)))
          .replace("{replications}", String(f.replications)));
        return;
      }
      shown = f.stale ? null : f.computed_at;
      render(f);
    }, function (err) {
      if (err.status === 404) { $("f-none").classList.remove("hidden"); }
    });
  }

  // the answer is the server's cached forecast, cheap to ask for; a new one comes every few minutes
  load();
  setInterval(load, 5000);
})();
