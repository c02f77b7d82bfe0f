/*
 * Applying a hall event to a snapshot (Hall.applyEvent), so screens react the moment an event
 * arrives. The rules are docs/REDUCER.md's, the same as the server's snapshot and the bridge's
 * hallstate; tests/vectors/reducer/ holds all three to them. live.js still reloads the snapshot
 * shortly after, for what an event alone cannot tell (the old status of a cancelled ticket).
 */
(function () {
  "use strict";
  var Hall = window.Hall;
  var LATEST_CALLS = 10;

  function findWindow(state, number) {
    var list = state.windows || [];
    for (var i = 0; i < list.length; i++) {
      if (String(list[i].number) === String(number)) { return list[i]; }
    }
    return null;
  }

  function zoneOf(state, category) {
    var list = state.categories || [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].code === category) { return list[i].zone; }
    }
    return null;
  }

  function bump(map, key, delta) {
    if (!map || key === undefined || key === null) { return; }
    map[key] = Math.max(0, (map[key] || 0) + delta);
  }

  function moveWaiting(state, category, delta) {
    bump(state.waiting, category, delta);
    bump(state.waiting_by_zone, zoneOf(state, category), delta);
  }

  /* A window in use stays open while a clerk is signed in; otherwise it closes (未上岗). */
  function rest(w) { return w.staff_name ? "idle" : "closed"; }

  /* The state of a window that is not paused, from the ticket it holds. */
  function working(w) {
    if (!w.current) { return rest(w); }
    return w.current.status === "serving" ? "serving" : "called";
  }

  /* The window lets go of ticket `id`; a paused window stays paused. */
  function release(w, id) {
    if (!w || !w.current || w.current.id !== id) { return false; }
    w.current = null;
    if (w.state !== "paused") { w.state = rest(w); }
    return true;
  }

  /* The hall screen's latest calls: one row per ticket, 重呼 marked in place, transfers off. */
  function foldCall(state, type, d, at) {
    var calls = state.latest_calls || [];
    if (type === "ticket.recalled") {
      for (var i = 0; i < calls.length; i++) {
        if (calls[i].id === d.id && String(calls[i].window) === String(d.window)) {
          calls[i].recall = true;
          calls[i].at = at;
          state.latest_calls = calls;
          return;
        }
      }
    }
    calls = calls.filter(function (c) { return c.id !== d.id; });
    if (type !== "ticket.transferred") {
      var w = findWindow(state, d.window);
      calls.unshift({ id: d.id, number: d.number, window: d.window,
        window_name: d.window_name || (w && w.name) || "", zone: d.zone, at: at,
        recall: type === "ticket.recalled" });
    }
    state.latest_calls = calls.slice(0, LATEST_CALLS);
  }

  Hall.applyEvent = function (state, env) {
    var d = env.data || {};
    var w = d.window !== undefined && d.window !== null ? findWindow(state, d.window) : null;
    state.waiting = state.waiting || {};
    state.waiting_by_zone = state.waiting_by_zone || {};
    switch (env.type) {
      case "ticket.issued":
        if (typeof d.waiting === "number") {
          var delta = d.waiting - (state.waiting[d.category] || 0);
          moveWaiting(state, d.category, delta);
        } else {
          moveWaiting(state, d.category, 1);
        }
        break;
      case "hall.waiting":
        // The public stream's coalesced issues: each category's count after the last of them.
        Object.keys(d.waiting || {}).forEach(function (category) {
          moveWaiting(state, category, d.waiting[category] - (state.waiting[category] || 0));
        });
        break;
      case "ticket.rechecked_in":
      case "ticket.resumed":
        moveWaiting(state, d.category, 1);
        break;
      case "ticket.called":
      case "ticket.recalled":
        if (env.type === "ticket.called") { moveWaiting(state, d.category, -1); }
        if (w) {
          w.current = { id: d.id, number: d.number, category: d.category, status: "called",
            called_at: env.at };
          if (w.state !== "paused") { w.state = "called"; }
        }
        foldCall(state, env.type, d, env.at);
        break;
      case "ticket.started":
        if (w && w.current && w.current.id === d.id) {
          w.current.status = "serving";
          if (w.state !== "paused") { w.state = "serving"; }
        }
        break;
      case "ticket.finished":
        if (w) {
          w.last_finished = { id: d.id, number: d.number };
          release(w, d.id);
        }
        break;
      case "ticket.no_show":
      case "ticket.suspended":
      case "ticket.cancelled":
      case "ticket.closed":
        release(w, d.id);
        break;
      case "ticket.transferred":
        // Called or served at a window, it waits again; waiting, it moves between categories.
        if (d.window === undefined || d.window === null) { moveWaiting(state, d.from_category, -1); }
        moveWaiting(state, d.category, 1);
        release(w, d.id);
        foldCall(state, env.type, d, env.at);
        break;
      case "window.paused":
        if (w) { w.state = "paused"; w.pause_reason = d.reason || ""; }
        break;
      case "window.resumed":
        if (w) { w.pause_reason = null; w.state = working(w); }
        break;
      case "window.signed_in":
        if (w) {
          w.staff_name = d.staff_name || "";
          w.current = d.current ? { id: d.current.id, number: d.current.number, category: d.current.category,
            status: d.current.status, called_at: null } : null;
          w.state = d.paused ? "paused" : working(w);
          w.pause_reason = d.paused ? (d.pause_reason || "") : null;
        }
        break;
      case "window.signed_out":
        if (w) { w.staff_name = null; w.state = "closed"; w.current = null; w.pause_reason = null; }
        break;
      case "window.retargeted":
        if (!w) {
          w = { number: d.window, name: d.name || "", kind: d.kind || "", zone: d.zone || null,
            state: "closed", categories: [], staff_name: null, pause_reason: null, current: null,
            last_finished: null };
          state.windows = (state.windows || []).concat([w]);
        }
        w.categories = (d.serves || []).slice().sort();
        if (d.name) { w.name = d.name; }
        if (d.kind) { w.kind = d.kind; }
        if (d.zone !== undefined) { w.zone = d.zone; }
        break;
      default:
        break;
    }
    state.seq = env.seq;
    return state;
  };

})();
