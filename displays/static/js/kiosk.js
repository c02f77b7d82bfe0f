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
    ["home", "appointment", "closed", "busy", "ticket"].forEach(function (v) {
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
    $("elder-toggle").classList.toggle("on", on);
    Hall.text("elder-label", Hall.say(on ? "kiosk_elder_on" : "kiosk_elder_off"));
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

  /** 110101********123X: enough to check on a public screen, never the whole number. */
  function maskId(value) {
    if (value.length <= 10) { return value.slice(0, 6) + value.slice(6).replace(/./g, "*"); }
    return value.slice(0, 6) + value.slice(6, -4).replace(/./g, "*") + value.slice(-4);
  }

  function idNote(text, kind) {
    Hall.text("id-note", text);
    $("id-note").classList.toggle("bad", kind === "bad");
    $("id-note").classList.toggle("good", kind === "good");
  }

  function checkId() {
    var value = $("id-number").value.trim().toUpperCase();
    $("id-number").value = value;
    if (!value) {
      idNote("", "");
      if (priorityAuto) { setPriority("normal", false); }
      return true;
    }
    var shown = Hall.say("kiosk_id_masked", { masked: maskId(value) });
    if (value.length < 18) { idNote(shown + "（已输入 " + value.length + " 位）", ""); return false; }
    var parsed = HallIdCard.parse(value);
    if (!parsed.ok) { idNote(shown + "：" + parsed.reason, "bad"); return false; }
    var years = HallIdCard.age(parsed.birth, new Date());
    if (years >= HallIdCard.ELDERLY_AGE) {
      setPriority("elderly", true);
      idNote(shown + "：您已年满" + HallIdCard.ELDERLY_AGE + "周岁，已为您选择老年人优先", "good");
    } else {
      if (priorityAuto) { setPriority("normal", false); }
      idNote(shown + "：身份证号有效", "good");
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
    $("keypad-search").classList.add("hidden");
  }
  function openSearchKeypad() { showKeypad($("search"), "keypad-search"); }
  $("search").addEventListener("click", openSearchKeypad);
  $("search").addEventListener("focus", openSearchKeypad);
  $("search-clear").addEventListener("click", function () {
    $("search").value = "";
    $("search").dispatchEvent(new Event("input", { bubbles: true }));
  });
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
        keypadTarget.value += keypadTarget.id === "search" ? key.toLowerCase() : key;
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
    $("popular-row").classList.toggle("hidden", !!q);
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
      }, function (err) { showError(kioskMessage(err)); });
  }

  /** 常办事项: big buttons for the matters people come for most, one tap to a ticket. */
  function loadPopular() {
    Hall.api("GET", "/api/halls/" + encodeURIComponent(hall) + "/matters", null, { token: token }).then(function (data) {
      var matters = (data && data.matters) || [];
      var box = $("popular");
      box.textContent = "";
      matters.slice(0, 9).forEach(function (m) {
        box.appendChild(Hall.el("button", { type: "button", class: "secondary matter popular", "data-category": m.category,
          onclick: function () { issue({ category: m.category, matters: m.code ? [m.code] : [] }); } }, [m.name]));
      });
      $("popular-row").classList.toggle("hidden", matters.length === 0);
    }, function () { $("popular-row").classList.add("hidden"); });
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
      // 预约签到 by ID card: the appointments API finds today's booking of this person.
      var path = what.by_id ? "/appointments/check-in" : "/tickets";
      var sent = what.by_id ? { id_number: idNumber } : body;
      return Hall.api("POST", "/api/halls/" + encodeURIComponent(hall) + path, sent,
        { token: token, idempotencyKey: key }).catch(function (err) {
          if (err.status === 0 && attempt < ISSUE_RETRIES) {
            attempt += 1;
            return new Promise(function (r) { setTimeout(r, 1000 * attempt); }).then(send);
          }
          throw err;
        });
    }
    send().then(showTicket, function (err) {
      if (CLOSED[err.code]) { showClosed(err); return; }
      show(what.appointment_code || what.by_id ? "appointment" : "home");
      showError(kioskMessage(err));
    });
  }

  // Refusals that mean "not now": a page of their own with when to come back and the booking link.
  var CLOSED = { not_open_yet: 1, lunch_break: 1, closed_for_today: 1, not_working_day: 1, daily_cap: 1 };

  function showClosed(err) {
    var extra = err.body || {};
    var cat = ((state && state.categories) || []).filter(function (c) { return c.code === extra.category; })[0];
    Hall.text("closed-category", cat ? cat.name : "");
    Hall.text("closed-title", Hall.say("kiosk_" + err.code));
    Hall.text("closed-next", extra.next_open_at ? Hall.say("kiosk_next_open", { when: Hall.when(extra.next_open_at) }) : "");
    var url = extra.booking_url ? new URL(extra.booking_url, location.origin).href : "";
    $("closed-book").classList.toggle("hidden", !url);
    if (url) {
      $("closed-qr").src = "/qr.svg?data=" + encodeURIComponent(url);
      Hall.text("closed-book-text", Hall.say("kiosk_booking_hint"));
    }
    show("closed");
  }
  $("closed-back").addEventListener("click", function () { show("home"); });

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
    if (Hall.say("kiosk_" + err.code, null, "") !== "") { return Hall.say("kiosk_" + err.code); }
    if (/[\u4e00-\u9fff]/.test(err.message || "")) { return err.message; }
    return "取号没有成功，请联系工作人员（" + (err.code || err.status) + "）";
  }

  function showTicket(t) {
    lastTicket = t;
    var cat = ((state && state.categories) || []).filter(function (c) { return c.code === t.category; })[0];
    Hall.text("t-hall", state && state.hall ? state.hall.name : "");
    Hall.text("t-category", cat ? cat.name : t.category);
    Hall.text("t-number", t.number);
    Hall.text("t-ahead", t.ahead);
    Hall.text("t-eta", Hall.estimateText(t.estimate || t.eta));
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
  // Check-in by ID card: the booking page promises it; the number read on the first page is used.
  $("appointment-by-id").addEventListener("click", function () {
    var idNumber = $("id-number").value.trim();
    if (!idNumber) { showError("请先返回上一页刷身份证或输入身份证号"); return; }
    issue({ by_id: true });
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
  loadPopular();
  show("home");
})();
