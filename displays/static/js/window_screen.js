/*
 * Window screen: number and name, staff on duty, the ticket being called or served — or, for a
 * window nobody staffs or signed out of, 未开放; paused, 暂停服务 and its reason (docs/REDUCER.md).
 */
(function () {
  "use strict";
  var cfg = Hall.config();
  var hall = cfg.hall;
  var number = String(cfg.window);
  var token = Hall.token("screen." + hall);
  var status = document.getElementById("win-status");
  var words = cfg.words || {};

  function render(state) {
    var w = (state.windows || []).filter(function (x) { return String(x.number) === number; })[0];
    if (!w) {
      Hall.text(status, "窗口未配置");
      return;
    }
    Hall.text("win-name", w.name || "");
    Hall.text("win-staff", w.staff_name ? "工作人员：" + w.staff_name : "");
    document.body.classList.toggle("paused", w.state === "paused");
    document.body.classList.toggle("closed", w.state === "closed");
    status.textContent = "";
    if (w.state === "closed") {
      status.textContent = words.window_screen_closed || "未开放";
    } else if (w.state === "paused") {
      status.appendChild(document.createTextNode(words.window_screen_paused || "暂停服务"));
      if (w.pause_reason) {
        status.appendChild(Hall.el("span", { class: "reason", text: w.pause_reason }));
      }
    } else if (w.current) {
      var label = w.current.status === "serving" ? "正在办理 " : "请 ";
      status.appendChild(document.createTextNode(label));
      status.appendChild(Hall.el("span", { class: "ticket", text: w.current.number }));
      if (w.current.status !== "serving") { status.appendChild(document.createTextNode(" 号")); }
    } else {
      status.textContent = words.window_screen_welcome || "欢迎光临";
    }
    status.dataset.state = w.state;
  }

  Hall.live({
    hall: hall,
    token: token,
    heartbeat: { kind: "screen", window: number },
    onSnapshot: render,
    onEvent: function (env, state) {
      render(state);
      var d = env.data || {};
      if ((env.type === "ticket.called" || env.type === "ticket.recalled") &&
          String(d.window) === number) {
        status.classList.remove("flash");
        void status.offsetWidth;
        status.classList.add("flash");
      }
    },
  });
})();
