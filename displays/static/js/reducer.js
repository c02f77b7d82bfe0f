/*
 * Applying a hall event to a snapshot (Hall.applyEvent), so screens react the moment an event
 * arrives. Best effort by design: live.js reloads the snapshot shortly after, which corrects
 * anything an event alone cannot tell (a cancelled ticket's old status, say).
 */
(function () {
  "use strict";
  var Hall = window.Hall;

  function findWindow(state, number) {
    var list = state.windows || [];
    for (var i = 0; i < list.length; i++) {
      if (String(list[i].number) === String(number)) { return list[i]; }
    }
    return null;
  }

  function bump(map, key, delta) {
    if (!map || key === undefined || key === null) { return; }
    map[key] = Math.max(0, (map[key] || 0) + delta);
  }

  Hall.applyEvent = function (state, env) {
    var d = env.data || {};
    var w = d.window !== undefined && d.window !== null ? findWindow(state, d.window) : null;
    state.waiting = state.waiting || {};
    state.waiting_by_zone = state.waiting_by_zone || {};
    switch (env.type) {
      case "ticket.issued":
      case "ticket.rechecked_in":
        if (typeof d.waiting === "number" && env.type === "ticket.issued") {
          state.waiting[d.category] = d.waiting;
        } else {
          bump(state.waiting, d.category, 1);
        }
        bump(state.waiting_by_zone, d.zone, 1);
        break;
      case "ticket.called":
      case "ticket.recalled":
        if (env.type === "ticket.called") {
          bump(state.waiting, d.category, -1);
          bump(state.waiting_by_zone, d.zone, -1);
        }
        if (w) {
          w.state = "called";
          w.current = { id: d.id, number: d.number, category: d.category, status: "called",
            called_at: env.at };
        }
        state.latest_calls = [{ id: d.id, number: d.number, window: d.window,
          window_name: d.window_name || (w && w.name) || "", zone: d.zone, at: env.at,
          recall: env.type === "ticket.recalled" }].concat(
          (state.latest_calls || []).filter(function (c) {
            return !(c.id === d.id && String(c.window) === String(d.window));
          })).slice(0, 10);
        break;
      case "ticket.started":
        if (w) {
          w.state = "serving";
          if (w.current) { w.current.status = "serving"; }
        }
        break;
      case "ticket.finished":
        if (w) {
          w.state = w.state === "paused" ? "paused" : "idle";
          w.last_finished = { id: d.id, number: d.number };
          w.current = null;
        }
        break;
      case "ticket.no_show":
      case "ticket.suspended":
      case "ticket.cancelled":
      case "ticket.closed":
        if (w && w.current && w.current.id === d.id) {
          w.current = null;
          if (w.state !== "paused") { w.state = "idle"; }
        }
        break;
      case "ticket.transferred":
        if (w && w.current && w.current.id === d.id) {
          w.current = null;
          if (w.state !== "paused") { w.state = "idle"; }
        }
        if (d.to_category) { bump(state.waiting, d.to_category, 1); }
        break;
      case "window.paused":
        if (w) { w.state = "paused"; w.pause_reason = d.reason || ""; }
        break;
      case "window.resumed":
        if (w) {
          w.pause_reason = null;
          w.state = w.current ? (w.current.status === "serving" ? "serving" : "called") : "idle";
        }
        break;
      case "window.signed_in":
        if (w) { w.staff_name = d.staff_name || ""; if (w.state === "closed") { w.state = "idle"; } }
        break;
      case "window.signed_out":
        if (w) { w.staff_name = null; w.state = "closed"; }
        break;
      default:
        break;
    }
    state.seq = env.seq;
    return state;
  };

})();
