/*
 * Rating pad (评价器): shows who serves while serving; after 办结 asks for one rating of that
 * ticket; the bottom two levels need a reason before anything is saved; thanks, then idle.
 * Only the person at the window can rate: the pad has no control that rates for them.
 */
(function () {
  "use strict";
  var cfg = Hall.config();
  var hall = cfg.hall;
  var windowNumber = String(cfg.window);
  var token = Hall.token("pad." + hall + "." + windowNumber);
  var pending = null;   // {id, number}: the finished ticket waiting for its rating
  var level = null;
  var rated = {};       // ticket ids already rated on this pad (one rating per ticket)
  var timer = null;
  var lastFinished;     // undefined until the first snapshot: then the window's last finished ticket
  var $ = function (id) { return document.getElementById(id); };

  function show(view) {
    ["idle", "rate", "reason", "thanks"].forEach(function (v) {
      $("pad-" + v).classList.toggle("hidden", v !== view);
    });
    document.body.dataset.view = view;
    clearTimeout(timer);
    if (view === "rate" || view === "reason") {
      timer = setTimeout(function () { pending = null; show("idle"); }, (cfg.rate_seconds || 90) * 1000);
    } else if (view === "thanks") {
      timer = setTimeout(function () { show("idle"); }, 4000);
    }
  }

  function showError(msg) {
    $("p-error").textContent = msg || "";
    $("p-error").classList.toggle("hidden", !msg);
  }

  function renderIdle(state) {
    if (state.hall && state.hall.name) { Hall.text("p-hall", state.hall.name); }
    var w = (state.windows || []).filter(function (x) { return String(x.number) === windowNumber; })[0];
    if (!w) { return; }
    Hall.text("p-staff", w.staff_name ? "工作人员：" + w.staff_name : "");
    var serving = w.current && w.state !== "paused" ? "正在为 " + w.current.number + " 号办理" : "";
    Hall.text("p-serving", w.state === "paused" ? "暂停服务" : serving);
  }

  function ask(ticket) {
    if (rated[ticket.id]) { return; }
    pending = ticket;
    level = null;
    showError("");
    Hall.text("p-ticket", ticket.number ? "（" + ticket.number + "号）" : "");
    show("rate");
  }

  function selectedReasons() {
    return Array.prototype.filter.call(document.querySelectorAll(".reason"), function (b) {
      return b.getAttribute("aria-pressed") === "true";
    }).map(function (b) { return b.dataset.reason; });
  }

  function submit() {
    if (!pending || level === null) { return; }
    var reasons = level <= 2 ? selectedReasons() : [];
    if (level <= 2 && reasons.length === 0) {
      $("p-reason-error").classList.remove("hidden");
      return; // 差评 must say why: refused here, and the server refuses it too
    }
    var ticket = pending;
    Hall.api("POST", "/api/halls/" + encodeURIComponent(hall) + "/tickets/" + encodeURIComponent(ticket.id) + "/rating",
      { level: level, reasons: reasons, channel: "pad", window: Number(windowNumber) },
      { token: token, idempotencyKey: "pad-rating-" + ticket.id }).then(function () {
        rated[ticket.id] = true;
        pending = null;
        show("thanks");
      }, function (err) {
        if (err.status === 409) { rated[ticket.id] = true; pending = null; show("thanks"); return; }
        showError(String(err));
      });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".lv"), function (b) {
    b.addEventListener("click", function () {
      level = Number(b.dataset.level);
      if (level <= 2) {
        Array.prototype.forEach.call(document.querySelectorAll(".reason"), function (r) {
          r.setAttribute("aria-pressed", "false");
        });
        $("p-reason-error").classList.add("hidden");
        show("reason");
      } else {
        submit();
      }
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll(".reason"), function (b) {
    b.addEventListener("click", function () {
      b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
      if (selectedReasons().length) { $("p-reason-error").classList.add("hidden"); }
    });
  });
  $("p-submit").addEventListener("click", submit);
  $("p-back").addEventListener("click", function () { show("rate"); });

  Hall.live({
    hall: hall,
    token: token,
    heartbeat: { kind: "pad", window: windowNumber },
    onSnapshot: function (state) {
      renderIdle(state); // a rating being asked for stays asked for across a reconnect
      // A finish that happened while the pad was offline (the server sent a snapshot rather
      // than the missed events) is still asked about; the first snapshot only sets the mark.
      var w = (state.windows || []).filter(function (x) { return String(x.number) === windowNumber; })[0];
      var last = w && w.last_finished ? w.last_finished : null;
      if (lastFinished !== undefined && last && (!lastFinished || last.id !== lastFinished.id)) {
        ask({ id: last.id, number: last.number });
      }
      lastFinished = last;
    },
    onEvent: function (env, state) {
      renderIdle(state);
      var d = env.data || {};
      if (String(d.window) !== windowNumber) { return; }
      if (env.type === "ticket.finished") {
        lastFinished = { id: d.id, number: d.number };
        ask(lastFinished);
      }
      else if (env.type === "ticket.rated" && pending && d.id === pending.id) {
        rated[d.id] = true; pending = null; show("thanks");
      }
      // A next call does not dismiss the question: staff calling quickly must not skip a rating.
    },
  });
  show("idle");
})();
