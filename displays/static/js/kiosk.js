/*
 * Kiosk (取号机): zones and categories as big buttons, matter search, priority choices, ID number
 * (typed, or from a card reader that types like a keyboard or posts a hall.idcard message),
 * appointment check-in, the issued ticket with its QR code, printing, the 适老化 large-text mode
 * and the return to the start after an idle time.
 */
(function () {
  "use strict";
  var cfg = Hall.config();
  var hall = cfg.hall;
  var token = Hall.token("kiosk." + hall);
  var zoneNames = cfg.zones || {};
  var state = null;
  var selectedZone = null;
  var priority = "normal";
  var priorityAuto = false;
  var lastTicket = null;
  var idleTimer = null;
  var keypadTarget = null;
  var ISSUE_RETRIES = 3;

  var $ = function (id) { return document.getElementById(id); };

  Hall.clock("clock");

  // ---- views, errors, idle ------------------------------------------------------------------
  function show(view) {
    ["home", "appointment", "busy", "ticket"].forEach(function (v) {
      $("view-" + v).classList.toggle("hidden", v !== view);
    });
    document.body.dataset.view = view;
    hideKeypad(); // a keypad belongs to the view that opened it
    armIdle();
  }

  function showError(message) {
    var box = $("k-error");
    box.textContent = message;
    box.classList.toggle("hidden", !message);
  }

  function armIdle() {
    clearTimeout(idleTimer);
    var seconds = document.body.dataset.view === "ticket" ? cfg.ticket_seconds : cfg.idle_seconds;
    idleTimer = setTimeout(resetToStart, (seconds || 60) * 1000);
  }

  /** Back to the start for the next person: nothing of the last one stays on screen. */
  function resetToStart() {
    $("search").value = "";
    $("search-results").textContent = "";
    $("id-number").value = "";
    $("appointment-code").value = "";
    Hall.text("id-note", "");
    setPriority("normal", false);
    setElder(false);
    selectedZone = null;
    showError("");
    renderZones();
    show("home");
  }

  ["pointerdown", "keydown", "input"].forEach(function (type) {
    document.addEventListener(type, armIdle, true);
  });

  // ---- 适老化 large-text mode ---------------------------------------------------------------
  function setElder(on) {
    document.body.classList.toggle("elder", on);
    $("elder-toggle").setAttribute("aria-pressed", on ? "true" : "false");
  }
  $("elder-toggle").addEventListener("click", function () {
    setElder(!document.body.classList.contains("elder"));
  });

  // ---- priority and ID number -----------------------------------------------------------------
  function setPriority(value, auto) {
    priority = value;
    priorityAuto = auto;
    Array.prototype.forEach.call(document.querySelectorAll(".prio"), function (b) {
      b.setAttribute("aria-pressed", b.dataset.priority === value ? "true" : "false");
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".prio"), function (b) {
    b.addEventListener("click", function () {
      setPriority(priority === b.dataset.priority ? "normal" : b.dataset.priority, false);
    });
  });

  function checkId() {
    var value = $("id-number").value.trim().toUpperCase();
    $("id-number").value = value;
    if (!value) {
      Hall.text("id-note", "");
      if (priorityAuto) { setPriority("normal", false); }
      return true;
    }
    if (value.length < 18) { Hall.text("id-note", "已输入 " + value.length + " 位"); return false; }
    var parsed = HallIdCard.parse(value);
    if (!parsed.ok) { Hall.text("id-note", parsed.reason); return false; }
    var years = HallIdCard.age(parsed.birth, new Date());
    if (years >= HallIdCard.ELDERLY_AGE) {
      setPriority("elderly", true);
      Hall.text("id-note", "您已年满" + HallIdCard.ELDERLY_AGE + "周岁，已为您选择老年人优先");
    } else {
      if (priorityAuto) { setPriority("normal", false); }
      Hall.text("id-note", "身份证号有效");
    }
    return true;
  }
  $("id-number").addEventListener("input", checkId);
  $("id-clear").addEventListener("click", function () { $("id-number").value = ""; checkId(); });

  /** A card reader (through the bridge or a keyboard-wedge reader) delivered a number. */
  function idFromReader(number) {
    if (typeof number !== "string" || !/^\d{17}[\dXx]$/.test(number)) { return; }
    if (document.body.dataset.view !== "home") { return; }
    $("id-number").value = number;
    checkId();
    armIdle();
  }
  window.addEventListener("message", function (ev) {
    if (ev.origin !== location.origin) { return; }
    if (ev.data && ev.data.type === "hall.idcard") { idFromReader(ev.data.id_number); }
  });
  document.addEventListener("hall:idcard", function (ev) { idFromReader(ev.detail && ev.detail.id_number); });
  // A serial card reader reaches the page through the bridge's loopback socket (hardware/
  // idcardhub.py). `?reader=ws://127.0.0.1:8766/?kiosk=kiosk-1` turns it on and is remembered.
  (function connectReader() {
    var url = new URLSearchParams(location.search).get("reader");
    try {
      if (url) { localStorage.setItem("hall.kiosk.reader", url); } else { url = localStorage.getItem("hall.kiosk.reader"); }
    } catch (e) { /* private mode: use the address only */ }
    if (!url || !/^wss?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url)) { return; }
    var delay = 1000;
    function open() {
      var ws = new WebSocket(url);
      ws.onopen = function () { delay = 1000; };
      ws.onmessage = function (m) {
        var d = null;
        try { d = JSON.parse(m.data); } catch (e) { return; }
        if (d && d.type === "hall.idcard") { idFromReader(d.id_number); }
      };
      ws.onclose = function () { setTimeout(open, delay); delay = Math.min(delay * 2, 30000); };
    }
    open();
  })();
  // Keyboard-wedge readers type 18 characters within a fraction of a second, then Enter.
  var wedge = "", wedgeAt = 0;
  document.addEventListener("keydown", function (ev) {
    var active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA")) { return; }
    var now = Date.now();
    if (now - wedgeAt > 100) { wedge = ""; }
    wedgeAt = now;
    if (ev.key === "Enter") { if (wedge.length === 18) { idFromReader(wedge); } wedge = ""; return; }
    if (/^[\dXx]$/.test(ev.key)) { wedge += ev.key.toUpperCase(); }
  });

  // ---- on-screen keypad ----------------------------------------------------------------------
  function showKeypad(target, which) {
    hideKeypad();
    keypadTarget = target;
    $(which || "keypad").classList.remove("hidden");
  }
  function hideKeypad() {
    keypadTarget = null;
    $("keypad").classList.add("hidden");
    $("keypad-code").classList.add("hidden");
  }
  $("id-keypad-open").addEventListener("click", function () { showKeypad($("id-number")); });
  // A touch screen has no keyboard: tapping a field brings its keypad back.
  $("id-number").addEventListener("click", function () { showKeypad($("id-number")); });
  $("appointment-code").addEventListener("click", function () {
    showKeypad($("appointment-code"), "keypad-code");
  });
  $("appointment-code").addEventListener("input", function () {
    var el = $("appointment-code");
    el.value = el.value.toUpperCase().replace(/[^A-Z0-9]/g, "");
  });
  Array.prototype.forEach.call(document.querySelectorAll(".keypad .key"), function (b) {
    b.addEventListener("click", function () {
      if (!keypadTarget) { return; }
      var key = b.dataset.key;
      if (key === "完成") { hideKeypad(); return; }
      if (key === "删除") { keypadTarget.value = keypadTarget.value.slice(0, -1); }
      else if (keypadTarget.value.length < (Number(keypadTarget.getAttribute("maxlength")) || 32)) {
        keypadTarget.value += key;
      }
      keypadTarget.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });

  // ---- zones, categories, matters ------------------------------------------------------------
  function zoneName(code) { return zoneNames[code] || code || "综合"; }

  function categoriesOf(zone) {
    return ((state && state.categories) || []).filter(function (c) { return c.zone === zone; });
  }

  function renderZones() {
    var zones = [];
    ((state && state.categories) || []).forEach(function (c) {
      if (zones.indexOf(c.zone) < 0) { zones.push(c.zone); }
    });
    if (zones.length === 1 && !selectedZone) { selectedZone = zones[0]; }
    var zoneBox = $("zones"), catBox = $("categories");
    var shape = (selectedZone || "") + "|" + zones.join(",") + "|" +
      categoriesOf(selectedZone).map(function (c) { return c.code + c.name; }).join(",");
    if (shape === renderedShape) { updateCounts(); return; }
    renderedShape = shape; // rebuild only when the buttons change: never under a finger
    zoneBox.textContent = "";
    catBox.textContent = "";
    if (!selectedZone) {
      Hall.text("zone-label", "请选择办理区域");
      zones.forEach(function (z) {
        var n = ((state && state.waiting_by_zone) || {})[z] || 0;
        zoneBox.appendChild(Hall.el("button", { type: "button", class: "big zone", "data-zone": z,
          onclick: function () {
            var only = categoriesOf(z);
            // A zone of one business: one tap issues the ticket, no second screen to read.
            if (only.length === 1) { issue({ category: only[0].code }); return; }
            selectedZone = z;
            renderZones();
          } },
          [Hall.el("span", { class: "b-title", text: zoneName(z) }),
           Hall.el("span", { class: "b-sub", text: "等候 " + n + " 人" })]));
      });
    } else {
      Hall.text("zone-label", zoneName(selectedZone) + "：请选择业务");
      categoriesOf(selectedZone).forEach(function (c) {
        var n = ((state && state.waiting) || {})[c.code] || 0;
        catBox.appendChild(Hall.el("button", { type: "button", class: "big category",
          "data-category": c.code, onclick: function () { issue({ category: c.code }); } },
          [Hall.el("span", { class: "b-title", text: c.name }),
           Hall.el("span", { class: "b-sub", text: "等候 " + n + " 人" })]));
      });
    }
    zoneBox.classList.toggle("hidden", !!selectedZone);
    catBox.classList.toggle("hidden", !selectedZone);
    $("zones-back").classList.toggle("hidden", !selectedZone || zones.length < 2);
  }
  var renderedShape = null;

  function updateCounts() {
    Array.prototype.forEach.call(document.querySelectorAll("#zones .zone"), function (b) {
      var n = ((state && state.waiting_by_zone) || {})[b.dataset.zone] || 0;
      b.querySelector(".b-sub").textContent = "等候 " + n + " 人";
    });
    Array.prototype.forEach.call(document.querySelectorAll("#categories .category"), function (b) {
      var n = ((state && state.waiting) || {})[b.dataset.category] || 0;
      b.querySelector(".b-sub").textContent = "等候 " + n + " 人";
    });
  }

  $("zones-back").addEventListener("click", function () { selectedZone = null; renderZones(); });

  var searchTimer = null;
  $("search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 250);
  });

  function search() {
    var q = $("search").value.trim();
    var list = $("search-results");
    if (!q) { list.textContent = ""; return; }
    Hall.api("GET", "/api/halls/" + encodeURIComponent(hall) + "/matters?q=" + encodeURIComponent(q),
      null, { token: token }).then(function (data) {
        if ($("search").value.trim() !== q) { return; } // a newer search is on its way
        var matters = Array.isArray(data) ? data : (data && (data.matters || data.results)) || [];
        list.textContent = "";
        if (matters.length === 0) { list.appendChild(Hall.el("li", { class: "none", text: "没有找到相关事项" })); }
        matters.slice(0, 8).forEach(function (m) {
          list.appendChild(Hall.el("li", {}, [Hall.el("button", { type: "button", class: "secondary matter",
            "data-category": m.category,
            onclick: function () { issue({ category: m.category, matters: m.code ? [m.code] : [] }); } },
            [m.name + (m.department ? "（" + m.department + "）" : "")])]));
        });
      }, function (err) { showError(String(err)); });
  }

  // ---- issuing ------------------------------------------------------------------------------
  function issue(what) {
    if (!checkId()) { showError("身份证号不正确，请修改或清除后再取号"); return; }
    var idNumber = $("id-number").value.trim();
    var body = { channel: what.appointment_code ? "appointment" : "kiosk", priority: priority };
    if (what.category) { body.category = what.category; }
    if (what.matters && what.matters.length) { body.matters = what.matters; }
    if (what.appointment_code) { body.appointment_code = what.appointment_code; }
    if (idNumber) { body.id_number = idNumber; }
    // The same key on every retry: a kiosk that lost the answer gets the same ticket, not two.
    var key = Hall.newKey();
    body.idempotency_key = key;
    showError("");
    show("busy");
    var attempt = 0;
    function send() {
      return Hall.api("POST", "/api/halls/" + encodeURIComponent(hall) + "/tickets", body,
        { token: token, idempotencyKey: key }).catch(function (err) {
          if (err.status === 0 && attempt < ISSUE_RETRIES) {
            attempt += 1;
            return new Promise(function (r) { setTimeout(r, 1000 * attempt); }).then(send);
          }
          throw err;
        });
    }
    send().then(showTicket, function (err) {
      show(what.appointment_code ? "appointment" : "home");
      showError(kioskMessage(err));
    });
  }

  /** What to tell a person at the kiosk: the server's Chinese message, or one of ours. */
  function kioskMessage(err) {
    var ours = {
      network: "网络连接中断，请稍后再试或联系工作人员",
      unknown_appointment: "没有找到这个预约码，请核对后再输入",
      appointment_used: "这个预约已经签到或已失效",
      rate_limited: "取号太频繁，请稍后再试",
      unauthorized: "本机未登记，请联系工作人员",
      forbidden: "本机不能取号，请联系工作人员",
    }[err.code];
    if (ours) { return ours; }
    if (/[\u4e00-\u9fff]/.test(err.message || "")) { return err.message; }
    return "取号没有成功，请联系工作人员（" + (err.code || err.status) + "）";
  }

  function etaText(eta) {
    if (!eta) { return "—"; }
    var lo = Math.round(eta.p50_minutes), hi = Math.round(eta.p90_minutes);
    if (hi <= 0) { return "马上就到"; }
    if (lo >= hi) { return "约 " + hi + " 分钟"; }
    return lo + "–" + hi + " 分钟";
  }

  function showTicket(t) {
    lastTicket = t;
    var cat = ((state && state.categories) || []).filter(function (c) { return c.code === t.category; })[0];
    Hall.text("t-hall", state && state.hall ? state.hall.name : "");
    Hall.text("t-category", cat ? cat.name : t.category);
    Hall.text("t-number", t.number);
    Hall.text("t-ahead", t.ahead);
    Hall.text("t-eta", etaText(t.eta));
    Hall.text("t-time", "取号时间 " + Hall.hhmm(t.issued_at));
    var url = t.progress_url ? new URL(t.progress_url, location.origin).href : "";
    $("t-qr").classList.toggle("hidden", !url);
    if (url) { $("t-qr").src = "/qr.svg?data=" + encodeURIComponent(url); }
    show("ticket");
    print();
  }

  function print() {
    var mode = cfg.printer || "browser";
    if (mode === "bridge") {
      Hall.text("print-note", "小票正在打印，请取走小票");
    } else if (mode === "browser") {
      Hall.text("print-note", "请取走小票");
      setTimeout(function () { window.print(); }, 300); // let the QR image load first
    } else {
      Hall.text("print-note", "请拍照或扫码保存您的号码");
    }
  }
  $("reprint").addEventListener("click", function () { if (lastTicket) { print(); } });
  $("ticket-done").addEventListener("click", resetToStart);

  // ---- appointment check-in -----------------------------------------------------------------
  $("appointment-open").addEventListener("click", function () {
    show("appointment");
    showKeypad($("appointment-code"), "keypad-code");
  });
  $("appointment-cancel").addEventListener("click", function () { showError(""); show("home"); });
  $("appointment-submit").addEventListener("click", function () {
    var code = $("appointment-code").value.trim();
    if (!code) { showError("请输入预约码"); return; }
    issue({ appointment_code: code });
  });

  // ---- live hall state ------------------------------------------------------------------------
  function onState(s) {
    state = s;
    (s.zones || []).forEach(function (z) { zoneNames[z.code] = z.name; });
    if (s.hall && s.hall.name) { Hall.text("hall-name", s.hall.name); }
    if (document.body.dataset.view === "home") { renderZones(); }
  }

  Hall.live({ hall: hall, token: token, onSnapshot: onState, heartbeat: { kind: "kiosk" },
    onEvent: function (_env, s) { onState(s); } });
  show("home");
})();
