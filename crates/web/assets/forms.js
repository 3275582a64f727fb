// leadteam: small behaviours of forms, hand-written, no dependencies.
// - A form with data-confirm="..." asks before it is sent (actions that cut
//   someone off or cannot be undone).
// - A radio with data-controls="ID" makes the fieldset ID inert unless the
//   radio of its group with data-enables is chosen (so boxes that would be
//   ignored cannot be ticked).
// - A checkbox with data-select-all="NAME" ticks or unticks every checkbox
//   named NAME (the rows a bulk action may take).
// Without JavaScript the forms are sent as they are; the server checks
// everything either way.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var text = form && form.getAttribute && form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) {
      e.preventDefault();
    }
  }, true);

  function sync(id) {
    var fs = document.getElementById(id);
    var on = document.querySelector('input[data-controls="' + id + '"][data-enables]');
    if (fs && on) {
      fs.disabled = !on.checked;
    }
  }
  document.addEventListener("change", function (e) {
    var t = e.target;
    var id = t && t.getAttribute && t.getAttribute("data-controls");
    if (id) {
      sync(id);
    }
    var all = t && t.getAttribute && t.getAttribute("data-select-all");
    if (all) {
      document.querySelectorAll('input[type="checkbox"][name="' + all + '"]').forEach(function (b) {
        b.checked = t.checked;
      });
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var seen = {};
    document.querySelectorAll("input[data-controls]").forEach(function (r) {
      var id = r.getAttribute("data-controls");
      if (!seen[id]) {
        seen[id] = true;
        sync(id);
      }
    });
  });
})();
