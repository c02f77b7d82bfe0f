/*
 * Mobile progress page: the ticket's number, people ahead, estimate and status, kept live by the
 * hall's public stream (any call may move this ticket up) with a slow poll as a safety net.
 */
(function () {
  "use strict";
  var cfg = Hall.config();
  var token = cfg.token;
  var live = null;
  var timer = null;
  var STATUS = {
    waiting: "排队等候中",
    called: "请到窗口办理",
    serving: "正在办理",
    suspended: "已挂起，补齐材料后请回到窗口",
    no_show: "已过号",
    finished: "已办结，感谢您的耐心",
    cancelled: "号码已取消",
    closed: "号码已作废",
  };

  function render(p) {
    Hall.text("m-number", p.number);
    var hallName = p.hall && typeof p.hall === "object" ? p.hall.name : p.hall_name;
    if (hallName) { Hall.text("m-hall", hallName); }
    Hall.text("m-category", p.category_name || "");
    var status = document.getElementById("m-status");
    var text = STATUS[p.status] || p.status;
    if ((p.status === "called" || p.status === "serving") && p.window) {
      text = (p.status === "called" ? "请到 " : "正在 ") + p.window + " 号窗口" +
        (p.status === "called" ? "办理" : "办理中");
    }
    status.textContent = text;
    status.className = "m-status" + (p.status === "called" ? " called" : "") +
      (p.status === "finished" ? " done" : "");
    status.dataset.status = p.status;
    var waiting = p.status === "waiting";
    document.getElementById("m-lines").classList.toggle("hidden", !waiting);
    Hall.text("m-ahead", p.ahead);
    Hall.text("m-eta", Hall.estimateText(p.estimate || p.eta));
    document.getElementById("m-noshow").classList.toggle("hidden", p.status !== "no_show");
    renderRating(p);
    Hall.text("m-updated", "更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false }));
    var hall = p.hall && typeof p.hall === "object" ? p.hall.code : (p.hall_code || p.hall || cfg.hall);
    if (!live && hall) {
      live = Hall.live({ hall: String(hall), onSnapshot: schedule, onEvent: schedule, refreshMs: 0 });
    }
  }

  // 好差评 from the phone (channel "qr"): the progress token proves the ticket is theirs.
  var ticket = null;
  var level = null;

  function renderRating(p) {
    ticket = p;
    // 一次一评: once rated (here, at the pad or by staff) the form gives way to a thank-you.
    var done = !!p.rated;
    document.getElementById("m-rate").classList.toggle("hidden", p.status !== "finished" || done);
    document.getElementById("m-rated").classList.toggle("hidden", p.status !== "finished" || !done);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".m-lv"), function (b) {
    b.addEventListener("click", function () {
      level = Number(b.dataset.level);
      Array.prototype.forEach.call(document.querySelectorAll(".m-lv"), function (x) {
        x.setAttribute("aria-pressed", x === b ? "true" : "false");
      });
      document.getElementById("m-reasons").classList.toggle("hidden", level > 2);
      document.getElementById("m-rate-submit").disabled = false;
    });
  });

  document.getElementById("m-rate-submit").addEventListener("click", function () {
    if (!ticket || level === null) { return; }
    var reasons = Array.prototype.map.call(
      document.querySelectorAll("#m-reasons input:checked"), function (i) { return i.value; });
    if (level <= 2 && reasons.length === 0) { Hall.text("m-rate-note", "请至少选择一个原因"); return; }
    var hall = ticket.hall && typeof ticket.hall === "object" ? ticket.hall.code : cfg.hall;
    Hall.api("POST", "/api/halls/" + encodeURIComponent(hall) + "/tickets/" + encodeURIComponent(ticket.id) + "/rating",
      { level: level, reasons: level <= 2 ? reasons : [], channel: "qr", progress_token: token },
      { idempotencyKey: "qr-rating-" + ticket.id }).then(function () {
        Hall.text("m-rate-note", "感谢您的评价！");
        document.getElementById("m-rate").querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        ticket.rated = true;
        setTimeout(function () { renderRating(ticket); }, 1500);
      }, function (err) {
        if (err.status === 409) {
          Hall.text("m-rate-note", "本次服务已经评价过，感谢！");
          document.getElementById("m-rate").querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        } else {
          Hall.text("m-rate-note", /[\u4e00-\u9fff]/.test(err.message || "") ? err.message : "评价没有提交成功，请稍后再试");
        }
      });
  });

  function refresh() {
    Hall.api("GET", "/api/progress/" + encodeURIComponent(token)).then(render, function (err) {
      if (err.status === 404) {
        // Nothing to count for a token that names no ticket: no "前面还有 - 人".
        Hall.text("m-status", Hall.say("progress_not_found"));
        document.getElementById("m-status").dataset.status = "not_found";
        document.getElementById("m-lines").classList.add("hidden");
        Hall.text("m-number", "");
        document.querySelector(".m-label").classList.add("hidden");
      }
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300); // one fetch for a burst of events
  }

  refresh();
  setInterval(refresh, 20000);
})();
