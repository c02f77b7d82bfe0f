/*
 * Staff console (窗口叫号台): log in, pick a window and sign in, then call next, recall, no-show,
 * start, finish, transfer, suspend/resume, pause with a reason; the waiting list this window can
 * serve (call any of them out of order), the current ticket with its timer and the policy's
 * reason, today's counts, reprinting. Every action has a key (shown on its button).
 */
(function () {
  "use strict";
  var cfg = Hall.config();
  var $ = function (id) { return document.getElementById(id); };
  // The login is an HttpOnly session cookie: this page never holds the token (no URL, no
  // storage). `token` stays "" so every call rides on the cookie; "hall.staff.login" only
  // remembers that a login was made, to open at the window choice after a reload.
  var token = "";
  Hall.setToken("staff", "");  // a token stored by an older version of this page
  var me = null;
  var hall = cfg.hall || localStorageGet("hall.staff.hall") || "";
  var windowNumber = cfg.window ? String(cfg.window) : (localStorageGet("hall.staff.window") || "");
  var live = null;
  var state = null;
  var current = null;        // the window's current ticket (from the snapshot)
  var desk = null;           // the last …/console answer: lists, counts and the actions allowed now
  var reasons = {};          // ticket id -> the policy's reason for calling it
  var startedAt = {};        // ticket id -> when service started (seconds)
  var deskTimer = null;
  var busy = false;

  function localStorageGet(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }
  function localStorageSet(k, v) { try { localStorage.setItem(k, v); } catch (e) { /* memory only */ } }

  function show(view) {
    ["login", "pick", "console"].forEach(function (v) { $("s-" + v).classList.toggle("hidden", v !== view); });
    document.body.dataset.view = view;
    $("s-signout").classList.toggle("hidden", view !== "console");
    $("s-logout").classList.toggle("hidden", view === "login");
  }

  // An error stays until the clerk has read it (知道了): the next action does not wipe it.
  function showError(msg) {
    $("s-error-text").textContent = msg || "";
    $("s-error").classList.toggle("hidden", !msg);
    if (msg) { $("s-error-ok").focus(); }
  }
  $("s-error-ok").addEventListener("click", function () { showError(""); });

  function formError(id, err) {
    var msg = err && err.status === 401 ? Hall.say("staff.login_failed") : Hall.errorText(err);
    Hall.text(id, msg);
    $(id).classList.toggle("hidden", !msg);
  }

  function api(method, path, body) {
    return Hall.api(method, path, body, { token: token, idempotencyKey: method === "POST" ? Hall.newKey() : null })
      .catch(function (err) {
        if (err.status === 401) { logout(); }
        throw err;
      });
  }

  function hallPath(rest) { return "/api/halls/" + encodeURIComponent(hall) + rest; }
  function windowPath(rest) { return hallPath("/windows/" + encodeURIComponent(windowNumber) + rest); }

  // ---- login and window choice ---------------------------------------------------------------
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    Hall.api("POST", "/api/auth/login", { username: $("login-user").value, password: $("login-pass").value })
      .then(function (r) {
        me = { name: r.name, role: r.role };
        localStorageSet("hall.staff.login", "1");
        localStorageSet("hall.staff.name", r.name || "");
        $("login-pass").value = "";
        formError("login-error", null);
        afterLogin();
      }, function (err) { formError("login-error", err); });
  });

  function logout() {
    Hall.logout();
    localStorageSet("hall.staff.login", "");
    localStorageSet("hall.staff.signed", "");
    token = "";
    if (live) { live.close(); live = null; }
    show("login");
  }
  $("s-logout").addEventListener("click", logout);

  function afterLogin() {
    Hall.text("s-user", localStorageGet("hall.staff.name") || (me && me.name) || "");
    $("pick-hall").value = hall;
    show("pick");
    if (hall) { loadWindows(); }
  }

  function loadWindows() {
    hall = $("pick-hall").value.trim();
    if (!hall) { return; }
    Hall.api("GET", hallPath("/snapshot"), null, { token: token }).then(function (snap) {
      var select = $("pick-window");
      select.textContent = "";
      (snap.windows || []).forEach(function (w) {
        var opt = Hall.el("option", { value: String(w.number), text: w.number + "号 " + w.name +
          (w.staff_name ? "（" + w.staff_name + "）" : "") });
        if (String(w.number) === windowNumber) { opt.selected = true; }
        select.appendChild(opt);
      });
      formError("pick-error", (snap.windows || []).length ? null : Hall.say("staff.no_windows"));
    }, function (err) { formError("pick-error", err); });
  }
  $("pick-load").addEventListener("click", loadWindows);

  $("pick-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    hall = $("pick-hall").value.trim();
    windowNumber = $("pick-window").value;
    if (!hall || !windowNumber) { return; }
    signIn(false);
  });

  // A window another clerk holds is taken over only when this clerk confirms it (the server
  // answers 409 window_taken otherwise, and audits a takeover).
  function signIn(takeover) {
    api("POST", windowPath("/sign-in"), { takeover: takeover }).then(function () {
      localStorageSet("hall.staff.hall", hall);
      localStorageSet("hall.staff.window", windowNumber);
      localStorageSet("hall.staff.signed", hall + "/" + windowNumber);
      formError("pick-error", null);
      openConsole();
    }, function (err) {
      if (err.code === "window_taken" && !takeover &&
          window.confirm(windowNumber + "号窗口已由" + ((err.body && err.body.staff_name) || "其他工作人员") +
                         "签到。确定接管该窗口吗？对方将被签退。")) {
        signIn(true);
        return;
      }
      formError("pick-error", err);
    });
  }

  (function () {
  });

  $("s-signout").addEventListener("click", function () {
    api("POST", windowPath("/sign-out"), {}).then(function () {
      localStorageSet("hall.staff.signed", "");
      if (live) { live.close(); live = null; }
      afterLogin();
    }, function (err) { showError(Hall.errorText(err)); });
  });

  // ---- the console ----------------------------------------------------------------------------
  function openConsole() {
    Hall.text("s-where", windowNumber + "号窗口");
    show("console");
    if (live) { live.close(); }
    live = Hall.live({
      hall: hall,
      token: token,
      onSnapshot: function (s) { state = s; render(); loadDesk(); },
      onEvent: function (env, s) {
        state = s;
        var d = env.data || {};
        if (env.type === "ticket.called" && d.reason) { reasons[d.id] = d.reason; }
        if (env.type === "ticket.started") { startedAt[d.id] = Hall.seconds(env.at); }
        render();
        // An event at this window changes what it may do: ask the server again at once.
        if (String(d.window) === windowNumber || String(env.window) === windowNumber) { loadDesk(); } else { scheduleDesk(); }
      },
    });
  }

  function myWindow() {
    return ((state && state.windows) || []).filter(function (w) { return String(w.number) === windowNumber; })[0];
  }

  /** The policy's reason (Reason.to_dict()) in words a clerk reads at a glance. */
  function reasonText(r) {
    if (!r) { return ""; }
    if (typeof r === "string") { return r; }
    var d = r.detail || {};
    var words = Hall.say("staff.reason." + r.rule, d, Hall.say("staff.reason.other"));
    var extra = [];
    if (typeof d.waited_minutes === "number") { extra.push(Hall.say("staff.reason.waited", { minutes: Math.round(d.waited_minutes) })); }
    if (d.compared && d.compared.length) {
      extra.push(Hall.say("staff.reason.compared", { list: d.compared.map(function (o) {
        return o.number + "（" + Math.round(o.waited_minutes) + "分）"; }).join("、") }));
    }
    return Hall.say("staff.reason.prefix", { words: words }) + (extra.length ? "；" + extra.join("；") : "");
  }

  function render() {
    var w = myWindow();
    if (!w) { return; }
    if (state.hall) { Hall.text("s-where", state.hall.name + " · " + w.number + "号窗口 " + w.name); }
    current = w.current;
    Hall.text("s-state", Hall.say("staff.state." + w.state, { reason: w.pause_reason || "" }, w.state));
    $("s-state").classList.toggle("paused", w.state === "paused");
    Hall.text("s-number", current ? current.number : "—");
    var cat = current && (state.categories || []).filter(function (c) { return c.code === current.category; })[0];
    Hall.text("s-category", cat ? cat.name : (current ? current.category : ""));
    Hall.text("s-status", current ? Hall.say("staff.status." + current.status, null, "") : "");
    Hall.text("s-reason", current ? reasonText(reasons[current.id]) : "");
    var paused = w.state === "paused";
    $("a-pause").firstChild.textContent = paused ? "恢复服务 " : "暂停服务 ";
    enableActions(w);
    tick();
  }

  var fresh = false;         // the last …/console answer describes the live ticket and state
  var typedAhead = null;     // a key's button pressed while that answer was on its way
  var BUTTONS = { "a-call": "call", "a-recall": "recall", "a-start": "start", "a-finish": "finish",
    "a-noshow": "no-show", "a-transfer": "transfer", "a-suspend": "suspend" };

  /**
   * Enable exactly what the server said it accepts (…/console's `allowed`, from the engine's
   * transitions). While that answer describes another ticket or state than the live one, every
   * move waits for the next answer rather than guessing.
   */
  function enableActions(w) {
    var paused = w.state === "paused";
    var held = desk && desk.current ? desk.current : null;
    var allowed = (desk && desk.allowed) || [];
    fresh = !!desk && (held ? held.id : null) === (current ? current.id : null) &&
      (!held || held.status === current.status) && (allowed.indexOf("resume") >= 0) === paused;
    Object.keys(BUTTONS).forEach(function (id) { $(id).disabled = !fresh || allowed.indexOf(BUTTONS[id]) < 0; });
    $("a-pause").disabled = !fresh || allowed.indexOf(paused ? "resume" : "pause") < 0;
    ["a-reprint", "a-link"].forEach(function (id) { $(id).disabled = !current; });
    document.body.dataset.allowed = fresh ? allowed.join(" ") : "";
    if (fresh && typedAhead) {
      // A key pressed while the server's answer was on its way: run it now if it is allowed.
      var button = typedAhead;
      typedAhead = null;
      if (!button.disabled) { actions[button.id](); }
    }
  }

  function tick() {
    if (!current) { Hall.text("s-timer", ""); return; }
    var since = startedAt[current.id] || Hall.seconds(current.called_at);
    Hall.text("s-timer", since ? Hall.duration(Date.now() / 1000 - since) : "");
  }
  setInterval(tick, 1000);

  function categoryName(code) {
    var c = ((state && state.categories) || []).filter(function (x) { return x.code === code; })[0];
    return c ? c.name : code;
  }

  function scheduleDesk() { clearTimeout(deskTimer); deskTimer = setTimeout(loadDesk, 300); }

  function loadDesk() {
    api("GET", windowPath("/console")).then(function (answer) {
      desk = answer;
      var tbody = $("s-waiting");
      tbody.textContent = "";
      (desk.waiting || []).forEach(function (t) {
        tbody.appendChild(Hall.el("tr", { "data-ticket": String(t.id) }, [
          Hall.el("td", { class: "num", text: t.number }),
          Hall.el("td", { text: categoryName(t.category) + (t.priority && t.priority !== "normal" ? " · 优先" : "") +
            (t.queue_class === "appointment" ? " · 预约" : "") }),
          Hall.el("td", { text: "已等 " + Math.round((t.waited_seconds || 0) / 60) + " 分" }),
          Hall.el("td", {}, [Hall.el("button", { type: "button", class: "secondary", text: "叫此号",
            onclick: function () { call(t.id); } })]),
        ]));
      });
      Hall.text("s-waiting-count", (desk.waiting_total || (desk.waiting || []).length) + " 人");
      var sus = $("s-suspended");
      sus.textContent = "";
      (desk.suspended || []).forEach(function (t) {
        sus.appendChild(Hall.el("tr", {}, [
          Hall.el("td", { class: "num", text: t.number }),
          Hall.el("td", { text: t.kind === "holding" ? "持件" : "不持件" }),
          Hall.el("td", {}, [Hall.el("button", { type: "button", class: "secondary", text: "恢复",
            onclick: function () { act(hallPath("/tickets/" + t.id + "/resume"), {}); } })]),
        ]));
      });
      var gone = $("s-noshow");
      gone.textContent = "";
      (desk.no_show || []).forEach(function (t) {
        gone.appendChild(Hall.el("tr", { "data-ticket": String(t.id) }, [
          Hall.el("td", { class: "num", text: t.number }),
          Hall.el("td", { text: (t.window ? t.window + "号窗口 " : "") + Hall.hhmm(t.called_at) }),
          Hall.el("td", {}, [Hall.el("button", { type: "button", class: "secondary", text: "重新签到",
            onclick: function () { act(hallPath("/tickets/" + t.id + "/recheck-in"), {}); } })]),
        ]));
      });
      var today = desk.today || {};
      Hall.text("s-today", "叫号 " + (today.called || 0) + " · 办结 " + (today.finished || 0) +
        " · 过号 " + (today.no_show || 0) + " · 转移 " + (today.transferred || 0));
      if (desk.current && desk.current.reason) { reasons[desk.current.id] = desk.current.reason; }
      render();
    }, function () { /* shown again on the next event */ });
  }

  function act(path, body) {
    if (busy) { return Promise.resolve(); }
    busy = true;
    return api("POST", path, body).then(function (r) {
      busy = false;
      loadDesk();
      return r;
    }, function (err) {
      busy = false;
      showError(Hall.errorText(err));
      loadDesk();
    });
  }

  function call(ticketId) {
    act(windowPath("/call"), ticketId ? { ticket: ticketId } : {}).then(function (r) {
      if (r && r.ticket) { reasons[r.ticket.id] = r.reason; render(); }
      else if (r === null || (r && !r.ticket)) { showError(Hall.say("staff.nothing_to_call")); }
    });
  }

  var actions = {
    "a-call": function () { call(null); },
    "a-recall": function () { act(windowPath("/recall"), {}); },
    "a-start": function () { act(windowPath("/start"), {}); },
    "a-finish": function () { act(windowPath("/finish"), {}); },
    "a-noshow": function () { act(windowPath("/no-show"), {}); },
    "a-transfer": function () { openTransfer(); },
    "a-suspend": function () { $("d-suspend").showModal(); },
    "a-pause": function () {
      var w = myWindow();
      if (w && w.state === "paused") { act(windowPath("/resume"), {}); } else { $("d-pause").showModal(); }
    },
    "a-reprint": function () { reprint(); },
    "a-link": function () { $("link-case").focus(); },
  };
  Object.keys(actions).forEach(function (id) {
    if (id === "a-link") { return; } // a submit button: the form's handler does the work
    $(id).addEventListener("click", function () { if (!$(id).disabled) { actions[id](); } });
  });

  // 办件编号: link the current ticket to its case in the approval system (operations' route).
  $("link-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!current) { showError(Hall.say("staff.no_current")); return; }
    var body = { case_number: $("link-case").value.trim(), matter_code: $("link-matter").value.trim() };
    if (!body.case_number || !body.matter_code) { showError(Hall.say("invalid.case_number")); return; }
    var number = current.number;
    act(hallPath("/ops/tickets/" + current.id + "/link"), body).then(function (r) {
      if (r) {
        Hall.text("link-note", number + " 已关联 " + body.case_number);
        $("link-case").value = "";
        $("link-matter").value = "";
      }
    });
  });

  document.addEventListener("keydown", function (ev) {
    if (document.body.dataset.view !== "console" || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = document.activeElement && document.activeElement.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || document.querySelector("dialog[open]")) { return; }
    var button = document.querySelector('#s-console button[data-key="' + ev.key.toLowerCase() + '"]');
    if (!button) { return; }
    ev.preventDefault();
    if (!button.disabled) { actions[button.id](); } else if (!fresh) { typedAhead = button; }
  });

  function openTransfer() {
    var cats = $("t-category"), wins = $("t-window");
    cats.length = 1;
    wins.length = 1;
    (state.categories || []).forEach(function (c) { cats.appendChild(Hall.el("option", { value: c.code, text: c.code + " " + c.name })); });
    (state.windows || []).forEach(function (w) {
      if (String(w.number) !== windowNumber) { wins.appendChild(Hall.el("option", { value: String(w.number), text: w.number + "号 " + w.name })); }
    });
    $("d-transfer").showModal();
  }
  $("d-transfer").addEventListener("close", function () {
    if ($("d-transfer").returnValue !== "ok" || !current) { return; }
    var body = {};
    if ($("t-category").value) { body.category = $("t-category").value; }
    if ($("t-window").value) { body.window = Number($("t-window").value); }
    if (!body.category && !body.window) { showError(Hall.say("staff.choose_target")); return; }
    act(hallPath("/tickets/" + current.id + "/transfer"), body).then(function (r) {
      // The server says when no open window serves the ticket where it went: tell the clerk now.
      if (r && r.warning === "no_window") { showError(Hall.say("transfer_no_window", { number: r.number })); }
    });
  });
  $("d-suspend").addEventListener("close", function () {
    if ($("d-suspend").returnValue !== "ok" || !current) { return; }
    var kind = document.querySelector('#d-suspend input[name="kind"]:checked').value;
    act(hallPath("/tickets/" + current.id + "/suspend"), { kind: kind });
  });
  $("d-pause").addEventListener("close", function () {
    if ($("d-pause").returnValue !== "ok") { return; }
    act(windowPath("/pause"), { reason: $("p-reason").value });
  });

  function reprint() {
    if (!current) { return; }
    Hall.text("pr-hall", state.hall ? state.hall.name : "");
    Hall.text("pr-number", current.number);
    var cat = (state.categories || []).filter(function (c) { return c.code === current.category; })[0];
    Hall.text("pr-category", cat ? cat.name : current.category);
    Hall.text("pr-time", "补打 " + new Date().toLocaleString("zh-CN", { hour12: false }));
    window.print();
  }

  // ---- start --------------------------------------------------------------------------------
  // After a reload the console comes back only to the window this browser signed in at.
  if (localStorageGet("hall.staff.login") !== "1") { show("login"); }
  else if (hall && windowNumber && localStorageGet("hall.staff.signed") === hall + "/" + windowNumber) {
    Hall.text("s-user", localStorageGet("hall.staff.name") || "");
    openConsole();
  } else { afterLogin(); }
})();
