/*
 * Hall screen: latest calls (newest highlighted and flashing), waiting counts, paused windows,
 * and each call's voice announcement played one at a time, never overlapping. With ?zone= it
 * shows and speaks only that zone's calls and counts.
 */
(function () {
  "use strict";
  var cfg = Hall.config();
  var hall = cfg.hall;
  var zone = cfg.zone || "";
  var token = Hall.token("screen." + hall);
  var audio = document.getElementById("voice");
  var soundButton = document.getElementById("sound-on");
  var queue = [];          // calls waiting to be announced
  var playing = false;
  var shownNewest = null;  // id+window+at of the latest call, last put in the big panel
  var panelCall = null;    // the call the big panel shows (the latest, or one being announced)
  var categoryNames = {};
  var words = cfg.words || {};
  var RECALL = words.call_recalled || "重呼";
  var STALE_CALL_SECONDS = 120; // a call older than this is not announced after a reconnect

  Hall.clock("clock");

  function inZone(call) { return !zone || call.zone === zone; }

  function announce(call) {
    queue.push(call);
    playNext();
  }

  function playNext() {
    if (playing || queue.length === 0) { return; }
    var call = queue.shift();
    playing = true;
    audio.src = "/api/halls/" + encodeURIComponent(hall) + "/calls/" + encodeURIComponent(call.id) +
      "/audio.wav?window=" + encodeURIComponent(call.window) + (call.recall ? "&recall=1" : "") +
      (token ? "&token=" + encodeURIComponent(token) : "");
    var done = function () {
      audio.onended = null;
      audio.onerror = null;
      playing = false;
      playNext();
    };
    audio.onended = done;
    audio.onerror = done; // a missing clip must not block later calls
    var p = audio.play();
    if (p && p.catch) {
      p.catch(function (err) {
        if (err && err.name === "NotAllowedError") {
          // Autoplay blocked (the display PC should run Chromium with
          // --autoplay-policy=no-user-gesture-required): ask for one tap, keep the call queued.
          soundButton.classList.remove("hidden");
          queue.unshift(call);
          audio.onended = null;
          audio.onerror = null;
          playing = false;
        } else {
          done();
        }
      });
    }
  }

  soundButton.addEventListener("click", function () {
    soundButton.classList.add("hidden");
    playNext();
  });

  function renderNewest(call, flash) {
    panelCall = call;
    var box = document.getElementById("newest");
    box.classList.toggle("hidden", !call);
    document.getElementById("newest-empty").classList.toggle("hidden", !!call);
    Hall.text("newest-number", call ? call.number : "——");
    Hall.text("newest-window", call ? call.window : "——");
    var mark = document.getElementById("newest-recall");
    if (mark) {
      mark.textContent = RECALL;
      mark.classList.toggle("hidden", !(call && call.recall));
    }
    if (flash) {
      box.classList.remove("flash");
      void box.offsetWidth; // restart the animation
      box.classList.add("flash");
    }
  }

  function render(state) {
    if (!state) { return; }
    if (zone) {
      var named = (state.zones || []).filter(function (z) { return z.code === zone; })[0];
      if (named) { Hall.text("zone-name", named.name); }
    }
    if (state.hall && state.hall.name) {
      Hall.text("hall-name", state.hall.name);
      document.title = state.hall.name + " · 综合屏";
    }
    (state.categories || []).forEach(function (c) { categoryNames[c.code] = c; });
    var calls = (state.latest_calls || []).filter(inZone);
    var newest = calls[0] || null;
    var key = newest ? newest.id + "@" + newest.window + "@" + newest.at + "@" + !!newest.recall : null;
    var panelGone = panelCall && !calls.some(function (c) { return c.id === panelCall.id; });
    if (key !== shownNewest || panelGone) { renderNewest(newest, false); shownNewest = key; }
    var tbody = document.getElementById("recent");
    tbody.textContent = "";
    // Each ticket once: the one in the big panel is not repeated in the table below it.
    calls.filter(function (c) { return !panelCall || c.id !== panelCall.id; }).slice(0, 6).forEach(function (c) {
      // A recall is marked on the ticket's own row (docs/REDUCER.md), never a second row.
      var number = Hall.el("td", { class: "number", text: c.number });
      if (c.recall) { number.appendChild(Hall.el("span", { class: "recall-mark", text: RECALL })); }
      tbody.appendChild(Hall.el("tr", { "data-ticket": String(c.id), class: c.recall ? "recalled" : "" }, [
        number,
        Hall.el("td", { text: c.window + "号窗口" }),
        Hall.el("td", { class: "at", text: Hall.hhmm(c.at) }),
      ]));
    });
    var waiting = document.getElementById("waiting");
    waiting.textContent = "";
    var shown = (state.categories || []).filter(function (c) { return !zone || c.zone === zone; });
    var zones = [];
    shown.forEach(function (c) { if (zones.indexOf(c.zone) < 0) { zones.push(c.zone); } });
    var zoneNames = {};
    (state.zones || []).forEach(function (z) { zoneNames[z.code] = z.name; });
    zones.forEach(function (z) {
      var own = shown.filter(function (c) { return c.zone === z; });
      // The whole-hall screen: each zone's total above its categories (a zone of one category
      // needs no extra row: the category's count is the zone's).
      if (zones.length > 1 && own.length > 1) {
        var total = (state.waiting_by_zone || {})[z] || 0;
        waiting.appendChild(Hall.el("tr", { class: "zone-row", "data-zone": z }, [
          Hall.el("td", { text: zoneNames[z] || z }),
          Hall.el("td", { class: "count", text: total + " 人" }),
        ]));
      }
      own.forEach(function (c) {
        var n = (state.waiting || {})[c.code] || 0;
        waiting.appendChild(Hall.el("tr", { "data-category": c.code }, [
          Hall.el("td", { text: c.code + " " + c.name }),
          Hall.el("td", { class: "count", text: n + " 人" }),
        ]));
      });
    });
    var rows = waiting.children.length;
    var table = waiting.parentNode;
    table.classList.toggle("dense", rows > 8);
    table.classList.toggle("denser", rows > 13);
    var paused = document.getElementById("paused");
    paused.textContent = "";
    var pausedWindows = (state.windows || []).filter(function (w) {
      return w.state === "paused" && (!zone || w.zone === zone || !w.zone);
    });
    if (pausedWindows.length === 0) { paused.appendChild(Hall.el("li", { class: "none", text: "无" })); }
    pausedWindows.forEach(function (w) {
      paused.appendChild(Hall.el("li", { text: w.number + "号窗口 " + (w.pause_reason || "暂停服务") }));
    });
  }

  Hall.live({
    hall: hall,
    token: token,
    heartbeat: { kind: "screen" },
    onSnapshot: render,
    onEvent: function (env, state) {
      render(state);
      if (env.type !== "ticket.called" && env.type !== "ticket.recalled") { return; }
      var d = env.data || {};
      var call = { id: d.id, number: d.number, window: d.window, zone: d.zone,
        recall: env.type === "ticket.recalled" };
      if (!inZone(call)) { return; }
      var at = Hall.seconds(env.at);
      if (at !== null && Date.now() / 1000 - at > STALE_CALL_SECONDS) { return; }
      renderNewest(call, true);
      render(state); // the table without the call now in the panel
      announce(call);
    },
  });
})();
