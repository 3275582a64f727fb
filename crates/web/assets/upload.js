// leadteam: file forms (the CSV import, a content file). A form marked
// `data-upload` sends its chosen file as the raw request body, as the API
// takes it, with the page's CSRF token in the X-CSRF-Token header and its
// other fields in the query. The server answers with the form's panel
// (`data-upload-panel`: the errors next to their fields, or a report),
// swapped in here, or with HX-Redirect to a page. Hand-written, no
// dependencies; without JavaScript the page says how else to send a file.
(function () {
  "use strict";

  function enable(root) {
    var buttons = root.querySelectorAll("form[data-upload] button[data-needs-script]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = false;
    }
  }

  function mib(n) {
    return (n / 1048576).toFixed(n < 10485760 ? 1 : 0) + " MiB";
  }

  // The new panel replaces the old. When it says `data-keep-file`, its file
  // input is swapped for the old one (which still holds the chosen file, so
  // a dry run can be followed by the real import without choosing it again),
  // taking the new attributes; after a real import the chooser is emptied.
  function swap(panel, html) {
    var oldInput = panel.querySelector("input[type=file]");
    var box = document.createElement("div");
    box.innerHTML = html;
    var fresh = box.querySelector("[data-upload-panel]");
    if (!fresh) {
      return false;
    }
    panel.replaceWith(fresh);
    var newInput = oldInput && oldInput.id ? fresh.querySelector("#" + CSS.escape(oldInput.id)) : null;
    if (newInput && fresh.hasAttribute("data-keep-file") && oldInput.files && oldInput.files.length) {
      var names = [];
      for (var i = 0; i < oldInput.attributes.length; i++) {
        names.push(oldInput.attributes[i].name);
      }
      names.forEach(function (n) {
        if (n !== "type" && !newInput.hasAttribute(n)) {
          oldInput.removeAttribute(n);
        }
      });
      for (var j = 0; j < newInput.attributes.length; j++) {
        oldInput.setAttribute(newInput.attributes[j].name, newInput.attributes[j].value);
      }
      newInput.replaceWith(oldInput);
    }
    enable(fresh);
    var focus = fresh.querySelector("[aria-invalid=true]") || fresh.querySelector("[data-upload-result]");
    if (focus) {
      focus.focus();
    }
    return true;
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-upload]")) {
      return;
    }
    e.preventDefault();
    var panel = form.closest("[data-upload-panel]");
    var status = form.querySelector("[data-upload-status]");
    var buttons = form.querySelectorAll("button[type=submit]");
    var input = form.querySelector("input[type=file]");
    var file = input && input.files.length ? input.files[0] : null;
    var say = function (text, bad) {
      if (status) {
        status.textContent = text;
        status.classList.toggle("field-error", !!bad);
      }
    };
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (file && max && file.size > max) {
      say("This file is " + mib(file.size) + "; at most " + mib(max) + " are accepted.", true);
      return;
    }
    var query = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key !== "_csrf" && typeof value === "string") {
        query.append(key, value);
      }
    });
    // The button pressed may carry a choice (the import's dry run).
    var pressed = e.submitter;
    if (pressed && pressed.name) {
      query.append(pressed.name, pressed.value);
    }
    if (file) {
      query.set("name", file.name);
    }
    var token = form.querySelector("input[name=_csrf]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action + "?" + query.toString());
    xhr.setRequestHeader("X-CSRF-Token", token ? token.value : "");
    xhr.setRequestHeader("HX-Request", "true");
    xhr.setRequestHeader("Content-Type", (file && file.type) || "application/octet-stream");
    if (file) {
      xhr.upload.addEventListener("progress", function (p) {
        if (p.lengthComputable) {
          say("Sending " + file.name + ": " + Math.floor((p.loaded * 100) / p.total) + "%");
        }
      });
    }
    xhr.addEventListener("load", function () {
      var go = xhr.getResponseHeader("HX-Redirect");
      if (go) {
        window.location.assign(go);
        return;
      }
      var text = xhr.responseText;
      if (panel && swap(panel, text)) {
        return;
      }
      // A whole page (an error page, the sign-in page): show it.
      document.open();
      document.write(text);
      document.close();
    });
    var busy = function (on) {
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = on;
      }
    };
    xhr.addEventListener("error", function () {
      busy(false);
      say("The file could not be sent. Check your connection and try again.", true);
    });
    busy(true);
    say(file ? "Sending " + file.name + "…" : "Sending…");
    xhr.send(file || "");
  });

  enable(document);
})();
