/*
 * Words for the staff console and the manager view: API codes turned into the catalogue's zh-CN
 * sentences (displays/messages, rendered into the page's config as `messages`).
 */
(function () {
  "use strict";

  // Hall.say may already come with live.js; the same reading of the same catalogue otherwise.
  if (!Hall.say) {
    Hall.say = function (code, params, fallback) {
      var table = (Hall.config().messages) || {};
      var text = Object.prototype.hasOwnProperty.call(table, code) ? table[code] : undefined;
      if (text === undefined) { return fallback !== undefined ? fallback : code; }
      return text.replace(/\{(\w+)\}/g, function (all, name) {
        return params && params[name] !== undefined && params[name] !== null ? String(params[name]) : all;
      });
    };
  }

  /**
   * An API error in words: a field's own entry first (invalid.reason), then the code's, then a
   * generic sentence with the status. The server's own message is for developers, never shown.
   */
  Hall.errorText = function (err) {
    if (!err || typeof err === "string") { return err || ""; }
    var body = err.body || {};
    var field = body.field ? Hall.say(err.code + "." + body.field, body, "") : "";
    return field || Hall.say(err.code, body, Hall.say("error.unknown", { status: err.status }, Hall.say("network")));
  };
})();
