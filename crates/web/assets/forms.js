// leadteam: small behaviours of forms, hand-written, no dependencies.
// - A form with data-confirm="..." asks before it is sent (actions that cut
//   someone off or cannot be undone).
// - A radio with data-controls="ID" makes the fieldset ID inert unless the
//   radio of its group with data-enables is chosen (so boxes that would be
//   ignored cannot be ticked).
// - A checkbox with data-select-all="NAME" ticks or unticks every checkbox
//   named NAME (the rows a bulk action may take).
// - The navigation (<details data-nav-menu>, menus <details data-nav-group>):
//   on a desktop the bar is open and its menus open one at a time, closing
//   on Escape (focus back on the menu's name) or a click elsewhere; on a
//   phone the bar is behind the Menu button with every menu listed open.
// Without JavaScript the forms are sent as they are; the server checks
// everything either way; the menus open and close by themselves, and the
// style sheet shows the bar on a desktop and the menus on a phone.
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
  // The navigation: on a desktop its menus are dropdowns, one open at a
  // time; on a phone they are lists under the Menu button, all open.
  var wide = window.matchMedia ? window.matchMedia("(min-width: 48rem)") : null;
  function desktop() {
    return !wide || wide.matches;
  }
  function closeMenus(except) {
    document.querySelectorAll("details[data-nav-group][open]").forEach(function (d) {
      if (d !== except) {
        d.open = false;
      }
    });
  }
  function navLayout() {
    var menu = document.querySelector("details[data-nav-menu]");
    if (menu) {
      menu.open = desktop();
    }
    document.querySelectorAll("details[data-nav-group]").forEach(function (d) {
      d.open = !desktop();
    });
  }
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (desktop() && d && d.matches && d.matches("details[data-nav-group]") && d.open) {
      closeMenus(d);
    }
  }, true);
  document.addEventListener("click", function (e) {
    if (desktop()) {
      closeMenus(e.target && e.target.closest && e.target.closest("details[data-nav-group]"));
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || !desktop()) {
      return;
    }
    var open = e.target && e.target.closest && e.target.closest("details[data-nav-group][open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    navLayout();
    if (wide && wide.addEventListener) {
      wide.addEventListener("change", navLayout);
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
