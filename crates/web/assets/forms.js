// leadteam: small behaviours of forms, hand-written, no dependencies.
// - A form with data-confirm="..." asks before it is sent (actions that cut
//   someone off or cannot be undone).
// - A radio with data-controls="ID" makes the fieldset ID inert unless the
//   radio of its group with data-enables is chosen (so boxes that would be
//   ignored cannot be ticked).
// - A checkbox with data-select-all="NAME" ticks or unticks every checkbox
//   named NAME (the rows a bulk action may take).
// - The navigation's menus (<details data-nav-group>) open one at a time
//   and close on Escape (focus back on the menu's name) or a click elsewhere.
// Without JavaScript the forms are sent as they are; the server checks
// everything either way, and the menus open and close by themselves.
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
  function closeMenus(except) {
    document.querySelectorAll("details[data-nav-group][open]").forEach(function (d) {
      if (d !== except) {
        d.open = false;
      }
    });
  }
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (d && d.matches && d.matches("details[data-nav-group]") && d.open) {
      closeMenus(d);
    }
  }, true);
  document.addEventListener("click", function (e) {
    var inside = e.target && e.target.closest && e.target.closest("details[data-nav-group]");
    closeMenus(inside);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") {
      return;
    }
    var open = e.target && e.target.closest && e.target.closest("details[data-nav-group][open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    // Browsers that cannot show a closed <details>' content by style alone
    // get the desktop bar opened here.
    var menu = document.querySelector("details[data-nav-menu]");
    var wide = window.matchMedia && window.matchMedia("(min-width: 48rem)");
    if (menu && wide && !(window.CSS && CSS.supports && CSS.supports("selector(::details-content)"))) {
      menu.open = wide.matches;
      wide.addEventListener("change", function () {
        menu.open = wide.matches;
      });
    }
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
