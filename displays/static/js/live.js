/*
 * Shared client of every page: device/login tokens, the JSON API, and the live hall stream.
 *
 * Hall.live() keeps one websocket to /ws/halls/{hall}: it reconnects by itself with back-off,
 * resumes from the last sequence number it saw, and reloads the snapshot over HTTP whenever it
 * finds a gap (or the server says hall.resync), so a page never shows stale state after a drop
 * or a server restart. Events are applied to the snapshot at once (screens react within the
 * second) and a debounced snapshot reload then corrects anything the reducer cannot know.
 */
(function () {
  "use strict";

  var Hall = {};

  /** The page's settings, rendered by the server into <script id="page-config">. */
  Hall.config = function () {
    var node = document.getElementById("page-config");
    return node ? JSON.parse(node.textContent) : {};
  };

  /**
   * A token for `key`: taken from ?token= when present (and kept in localStorage, so a kiosk
   * set up once keeps working after a reboot), else the stored one, else "".
   */
  Hall.token = function (key) {
    var storeKey = "hall.token." + key;
    var fromUrl = new URLSearchParams(location.search).get("token");
    try {
      if (fromUrl) {
        localStorage.setItem(storeKey, fromUrl);
        // Kept now: take it out of the address bar, history and anything that shows the URL.
        var url = new URL(location.href);
        url.searchParams.delete("token");
        history.replaceState(history.state, "", url.pathname + url.search + url.hash);
        return fromUrl;
      }
      return localStorage.getItem(storeKey) || "";
    } catch (e) {
      return fromUrl || "";
    }
  };

  Hall.setToken = function (key, value) {
    try {
      if (value) { localStorage.setItem("hall.token." + key, value); }
      else { localStorage.removeItem("hall.token." + key); }
    } catch (e) { /* private mode: the token lives only in memory */ }
  };

  /** An error answered by the API ({error, message}) or a network failure (status 0). */
  function ApiError(status, code, message, body) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.body = body || null;  // the whole error answer: some carry fields (staff_name …)
  }
  ApiError.prototype.toString = function () { return this.message || this.code; };
  Hall.ApiError = ApiError;

  /** A cookie's value, or "" (the session cookie itself is HttpOnly: scripts never see it). */
  Hall.cookie = function (name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return "";
  };

  /** Ends the page's login: the server forgets the token and clears the cookie. */
  Hall.logout = function () {
    return Hall.api("POST", "/api/auth/logout", {}).catch(function () { /* offline: the cookie expires */ });
  };

  Hall.newKey = function () {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  };

  /**
   * Calls the JSON API. opts: {token, idempotencyKey, timeoutMs}. Resolves with the parsed body,
   * rejects with ApiError (status 0 when the server could not be reached).
   */
  Hall.api = function (method, path, body, opts) {
    opts = opts || {};
    var headers = { "Accept": "application/json" };
    if (body !== undefined && body !== null) { headers["Content-Type"] = "application/json"; }
    if (opts.token) { headers["Authorization"] = "Bearer " + opts.token; }
    else if (method !== "GET" && method !== "HEAD") {
      // Staff and manager pages are logged in by an HttpOnly session cookie; their writes echo
      // the CSRF cookie in a header (double submit), which another site cannot read or send.
      var csrf = Hall.cookie("hall_csrf");
      if (csrf) { headers["X-CSRF-Token"] = csrf; }
    }
    if (opts.idempotencyKey) { headers["Idempotency-Key"] = opts.idempotencyKey; }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, opts.timeoutMs || 10000);
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined || body === null ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
      credentials: "same-origin",
    }).then(function (resp) {
      clearTimeout(timer);
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!resp.ok) {
          throw new ApiError(resp.status, (data && data.error) || "http_" + resp.status,
            (data && data.message) || resp.statusText || "请求失败", data);
        }
        return data;
      });
    }, function () {
      clearTimeout(timer);
      throw new ApiError(0, "network", "网络连接中断，请稍后再试");
    });
  };

  /** Formats an ISO instant (or epoch seconds) as HH:MM in the browser's zone. */
  Hall.hhmm = function (at) {
    if (at === null || at === undefined) { return ""; }
    var d = typeof at === "number" ? new Date(at * 1000) : new Date(at);
    if (isNaN(d.getTime())) { return ""; }
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  };

  Hall.seconds = function (at) {
    if (at === null || at === undefined) { return null; }
    var t = typeof at === "number" ? at * 1000 : Date.parse(at);
    return isNaN(t) ? null : t / 1000;
  };

  /** "12:05" style duration for a number of seconds (hours shown when needed). */
  Hall.duration = function (secs) {
    if (secs === null || secs === undefined || secs < 0) { return "--:--"; }
    secs = Math.floor(secs);
    var h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
    var mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  };

  Hall.text = function (node, value) {
    if (typeof node === "string") { node = document.getElementById(node); }
    if (node) { node.textContent = value === null || value === undefined ? "" : String(value); }
  };

  Hall.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "class") { node.className = attrs[k]; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  };

  /**
   * The words for `code` from the message catalogue the server put in the page's config
   * (displays/messages), `{name}` placeholders filled from `params`; `fallback` (else the code)
   * when the catalogue has no such code.
   */
  Hall.say = function (code, params, fallback) {
    var table = (Hall.config().messages) || {};
    var text = table[code];
    if (text === undefined) { return fallback !== undefined ? fallback : code; }
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return params && params[name] !== undefined && params[name] !== null ? String(params[name]) : all;
    });
  };

  /** "今天 14:00" / "明天 08:30" / "12月1日 08:30" for an ISO instant, as people say it. */
  Hall.when = function (at) {
    var d = new Date(at);
    if (isNaN(d.getTime())) { return ""; }
    var today = new Date();
    var days = Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()) -
      new Date(today.getFullYear(), today.getMonth(), today.getDate())) / 86400000);
    var day = days === 0 ? Hall.say("kiosk_today", null, "今天") : days === 1 ? Hall.say("kiosk_tomorrow", null, "明天")
      : (d.getMonth() + 1) + "月" + d.getDate() + "日";
    return day + " " + Hall.hhmm(at);
  };

  /** The one way a wait estimate ({ahead, p50_minutes, p90_minutes, state, source, next_open_at}) reads. */
  Hall.estimateText = function (est) {
    if (!est) { return Hall.say("estimate_unknown", null, "暂无法估计"); }
    if (est.state === "no_window") {
      return est.next_open_at ? Hall.say("estimate_no_window_until", { when: Hall.when(est.next_open_at) }, "暂无窗口办理")
        : Hall.say("estimate_no_window", null, "暂无窗口办理");
    }
    if (est.p50_minutes === null || est.p50_minutes === undefined) { return Hall.say("estimate_unknown", null, "暂无法估计"); }
    var lo = Math.round(est.p50_minutes), hi = Math.round(est.p90_minutes);
    if (hi <= 0) { return Hall.say("estimate_soon", null, "马上就到"); }
    var text = lo >= hi ? Hall.say("estimate_about", { minutes: hi }) : Hall.say("estimate_range", { low: lo, high: hi });
    // a figure from the live forecast says so (the analytic one is the default, unmarked)
    return est.source === "forecast" ? text + "（" + Hall.say("estimate.source.forecast", null, "依据实时客流预测") + "）" : text;
  };

  /** Shows the connection banner while `online` is false. */
  Hall.showOnline = function (online) {
    var banner = document.getElementById("hall-offline");
    if (!banner) {
      banner = Hall.el("div", { id: "hall-offline", class: "hidden", role: "status",
        text: "网络连接中断，正在重新连接…" });
      document.body.appendChild(banner);
    }
    banner.classList.toggle("hidden", !!online);
    document.body.dataset.online = online ? "1" : "0";
  };

  // ---------------------------------------------------------------------------------------
  // The live stream.

  /**
   * Opens the hall stream. opts: {hall, token, onSnapshot(state), onEvent(env, state),
   * onStatus(online), refreshMs}. Returns {state(), seq(), reload(), close()}.
   */
  Hall.live = function (opts) {
    var hall = opts.hall;
    var token = opts.token || "";
    var state = null;
    var seq = null;
    var ws = null;
    var attempt = 0;
    var closed = false;
    var reconnectTimer = null;
    var refreshTimer = null;
    var pingTimer = null;
    var lastMessage = Date.now();
    var reloading = null;
    var buffered = [];
    var refreshMs = opts.refreshMs === undefined ? 800 : opts.refreshMs;

    function status(online) {
      Hall.showOnline(online);
      if (opts.onStatus) { opts.onStatus(online); }
    }

    function setSnapshot(snap, force) {
      if (!snap || typeof snap.seq !== "number") { return; }
      if (!force && seq !== null && snap.seq < seq) { return; } // older than what we show
      state = snap;
      seq = snap.seq;
      if (opts.onSnapshot) { opts.onSnapshot(state); }
    }

    function reload() {
      if (reloading) { return reloading; }
      reloading = Hall.api("GET", "/api/halls/" + encodeURIComponent(hall) + "/snapshot", null,
        { token: token }).then(function (snap) {
          setSnapshot(snap, false);
        }, function () {
          // The socket's own reconnect will fetch a fresh snapshot when the server is back.
        }).then(function () {
          reloading = null;
          var pending = buffered;
          buffered = [];
          pending.sort(function (a, b) { return a.seq - b.seq; });
          pending.forEach(handleEnvelope);
        });
      return reloading;
    }

    function scheduleRefresh() {
      if (!refreshMs) { return; }
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(reload, refreshMs);
    }

    function handleEnvelope(env) {
      if (reloading) { buffered.push(env); return; }
      if (seq !== null && env.seq <= seq) { return; } // already seen (replay overlap)
      // A hall.waiting frame stands for the issues from `from` to `seq` (the public counts).
      var first = typeof env.from === "number" ? env.from : env.seq;
      if (state === null || (seq !== null && first > seq + 1)) {
        buffered.push(env); // a gap: what we show may be stale, so start again from a snapshot
        reload();
        return;
      }
      Hall.applyEvent(state, env);
      seq = env.seq;
      if (opts.onEvent) { opts.onEvent(env, state); }
      scheduleRefresh();
    }

    function onMessage(ev) {
      lastMessage = Date.now();
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (!msg || typeof msg !== "object") { return; }
      if (msg.type === "snapshot") {
        attempt = 0;
        setSnapshot(msg.data ? Object.assign({}, msg.data, { seq: msg.seq }) : null, true);
        return;
      }
      if (msg.type === "hall.resync") { reload(); return; }
      if (msg.type === "pong") { return; }
      if (msg.type === "error") { return; }
      if (typeof msg.seq === "number" && msg.type) {
        attempt = 0;
        handleEnvelope(msg);
      }
    }

    function connect() {
      if (closed) { return; }
      var proto = location.protocol === "https:" ? "wss://" : "ws://";
      var params = new URLSearchParams();
      if (seq !== null) { params.set("since", String(seq)); }
      // A device token goes in the first message, never the URL (URLs reach access logs); a
      // login rides in the session cookie by itself.
      if (token) { params.set("auth", "message"); }
      var qs = params.toString();
      var url = proto + location.host + "/ws/halls/" + encodeURIComponent(hall) + (qs ? "?" + qs : "");
      try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
      ws.onopen = function () {
        if (token) { try { ws.send(JSON.stringify({ type: "auth", token: token })); } catch (e) { /* closing */ } }
        lastMessage = Date.now();
        status(true);
      };
      ws.onmessage = onMessage;
      ws.onclose = function () {
        ws = null;
        status(false);
        scheduleReconnect();
      };
      ws.onerror = function () { /* onclose follows */ };
    }

    function scheduleReconnect() {
      if (closed || reconnectTimer) { return; }
      // 0.5 s, 1 s, 2 s … capped at 10 s, with jitter so a restarted server is not hit by every
      // screen of the hall in the same millisecond.
      var delay = Math.min(10000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
      attempt += 1;
      reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay);
    }

    function reconnectNow() {
      if (closed || ws) { return; }
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      attempt = 0;
      connect();
    }

    pingTimer = setInterval(function () {
      if (!ws || ws.readyState !== WebSocket.OPEN) { return; }
      if (Date.now() - lastMessage > 35000) { ws.close(); return; } // half-open: start again
      try { ws.send(JSON.stringify({ type: "ping" })); } catch (e) { /* closing */ }
    }, 15000);
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { reconnectNow(); }
    });

    // Device pages (kiosk, screens, pad) report themselves so the manager view can tell
    // which devices went quiet; an id per browser, kept like the token.
    if (opts.heartbeat && token) {
      var hbKey = "hall.device." + hall + "." + opts.heartbeat.kind;
      var hbId = null;
      try { hbId = localStorage.getItem(hbKey); } catch (e) { hbId = null; }
      if (!hbId) {
        hbId = opts.heartbeat.kind + "-" + Hall.newKey().slice(0, 8);
        try { localStorage.setItem(hbKey, hbId); } catch (e) { /* memory only */ }
      }
      var beat = function () {
        var device = { id: hbId, kind: opts.heartbeat.kind, ok: true };
        if (opts.heartbeat.window) { device.window = Number(opts.heartbeat.window); }
        Hall.api("POST", "/api/halls/" + encodeURIComponent(hall) + "/devices/heartbeat",
          { devices: [device] }, { token: token }).catch(function () { /* next beat */ });
      };
      beat();
      setInterval(beat, opts.heartbeat.seconds ? opts.heartbeat.seconds * 1000 : 30000);
    }

    connect();
    return {
      state: function () { return state; },
      seq: function () { return seq; },
      reload: reload,
      close: function () {
        closed = true;
        clearInterval(pingTimer);
        clearTimeout(reconnectTimer);
        clearTimeout(refreshTimer);
        if (ws) { ws.close(); }
      },
    };
  };

  /** Keeps an element showing the wall clock (HH:MM). */
  /** Manager pages (live view, city view): the login form or the page, and the logout button. */
  Hall.showView = function (view) {
    document.getElementById("g-login").classList.toggle("hidden", view !== "login");
    document.getElementById("g-live").classList.toggle("hidden", view !== "live");
    document.getElementById("g-logout").classList.toggle("hidden", view !== "live");
    document.body.dataset.view = view;
  };

  Hall.clock = function (id) {
    function tick() {
      var d = new Date();
      Hall.text(id, String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0"));
    }
    tick();
    setInterval(tick, 5000);
  };

  window.Hall = Hall;
})();
