/* Mainland resident ID numbers (GB 11643): checksum, birth date, age. Pure, no DOM. */
(function () {
  "use strict";
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  /** {ok, birth: Date|null, reason} for an 18-character ID number. */
  function parse(id) {
    id = String(id || "").trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(id)) { return { ok: false, birth: null, reason: "请输入18位身份证号" }; }
    var sum = 0;
    for (var i = 0; i < 17; i++) { sum += Number(id[i]) * WEIGHTS[i]; }
    if (CHECK[sum % 11] !== id[17]) { return { ok: false, birth: null, reason: "身份证号校验位不正确" }; }
    var y = Number(id.slice(6, 10)), m = Number(id.slice(10, 12)), d = Number(id.slice(12, 14));
    var birth = new Date(y, m - 1, d);
    if (birth.getFullYear() !== y || birth.getMonth() !== m - 1 || birth.getDate() !== d) {
      return { ok: false, birth: null, reason: "身份证号中的出生日期不正确" };
    }
    return { ok: true, birth: birth, reason: "" };
  }

  /** Whole years from `birth` to `today` (a Date). */
  function age(birth, today) {
    var years = today.getFullYear() - birth.getFullYear();
    if (today.getMonth() < birth.getMonth() ||
        (today.getMonth() === birth.getMonth() && today.getDate() < birth.getDate())) {
      years -= 1;
    }
    return years;
  }

  window.HallIdCard = { parse: parse, age: age, ELDERLY_AGE: 70 };
})();
