// Copy buttons: <button data-copy="ID"> copies the text of element ID (the
// value of an input or textarea) to the clipboard and says so. Hand-written.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button[data-copy]") : null;
    if (!b) { return; }
    var el = document.getElementById(b.getAttribute("data-copy"));
    if (!el) { return; }
    var text = ("value" in el && el.value !== undefined && el.tagName !== "BUTTON") ? el.value : el.textContent;
    if (el.tagName === "A") { text = el.getAttribute("href"); }
    var done = function () {
      var old = b.textContent;
      b.textContent = "Copied";
      b.setAttribute("aria-live", "polite");
      setTimeout(function () { b.textContent = old; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { select(el); });
    } else {
      select(el);
    }
  });
  function select(el) {
    if (el.select) { el.select(); return; }
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }
})();
