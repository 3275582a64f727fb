// leadteam: live alerts (D3). On every page with the bell: keeps the unread
// count up to date from the server-sent events of
// GET /api/v1/notifications/stream, shows a toast for each new alert, plays
// a short sound when the member switched it on, shows a desktop
// notification when the tab is in the background and the member allowed it,
// and puts the alert on top of the open alerts list. Opening an alert
// (/notifications/{id}/open) marks it read.
// Hand-written, no dependencies; the pages work without it (the count is
// then as of the last page load).
(function () {
  "use strict";
  var bell = document.getElementById("bell");
  if (!bell) {
    return;
  }
  var count = document.getElementById("bell-count");
  var status = document.getElementById("live-status");
  var toasts = document.getElementById("toasts");
  var store = window.localStorage;
  var SOUND = "leadteam.alert-sound";
  var DESKTOP = "leadteam.desktop-alerts";

  function setting(key) {
    try {
      return store && store.getItem(key) === "on";
    } catch (_) {
      return false;
    }
  }

  function remember(key, on) {
    try {
      if (store) {
        store.setItem(key, on ? "on" : "off");
      }
    } catch (_) {
      // Private mode: the choice lasts for this page only.
    }
  }

  function openUrl(n) {
    return "/notifications/" + encodeURIComponent(n.id) + "/open";
  }

  function setUnread(n) {
    bell.setAttribute("data-unread", String(n));
    bell.setAttribute("aria-label", "Alerts: " + n + " unread");
    count.textContent = String(n);
    count.hidden = n === 0;
  }

  // On the alerts page: the new alert on top of the list, built with DOM
  // calls (the text is never parsed as HTML).
  function addToList(n) {
    var list = document.getElementById("notification-list");
    if (!list) {
      return;
    }
    var empty = document.getElementById("notifications-empty");
    if (empty) {
      empty.hidden = true;
    }
    var li = document.createElement("li");
    li.className = "unread";
    var p = document.createElement("p");
    p.className = "what";
    var a = document.createElement("a");
    a.href = openUrl(n);
    a.textContent = n.body;
    p.appendChild(a);
    var when = document.createElement("span");
    when.className = "sub";
    when.textContent = " just now";
    p.appendChild(when);
    li.appendChild(p);
    list.insertBefore(li, list.firstChild);
  }

  // A toast in the corner of every page; it goes after a while, or when
  // closed. The link opens the alert (and reads it).
  function toast(n) {
    if (!toasts) {
      return;
    }
    var t = document.createElement("div");
    t.className = "toast";
    t.setAttribute("role", "status");
    var a = document.createElement("a");
    a.href = openUrl(n);
    a.textContent = n.body;
    t.appendChild(a);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "×";
    close.addEventListener("click", function () {
      t.remove();
    });
    t.appendChild(close);
    toasts.appendChild(t);
    window.setTimeout(function () {
      t.remove();
    }, 10000);
  }

  // Two short tones, made by the browser (no sound file to fetch).
  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx || !setting(SOUND)) {
      return;
    }
    try {
      var ctx = new Ctx();
      [880, 1320].forEach(function (hz, i) {
        var o = ctx.createOscillator();
        var g = ctx.createGain();
        o.frequency.value = hz;
        g.gain.value = 0.08;
        o.connect(g);
        g.connect(ctx.destination);
        o.start(ctx.currentTime + i * 0.15);
        o.stop(ctx.currentTime + i * 0.15 + 0.12);
      });
      window.setTimeout(function () {
        ctx.close();
      }, 600);
    } catch (_) {
      // No sound rather than a broken page.
    }
  }

  function desktop(n) {
    if (!document.hidden || !window.Notification || Notification.permission !== "granted" || !setting(DESKTOP)) {
      return;
    }
    try {
      var d = new Notification("leadteam", { body: n.body, tag: "leadteam-" + n.id });
      d.onclick = function () {
        window.focus();
        window.location.href = openUrl(n);
      };
    } catch (_) {
      // Some browsers only notify from a service worker: the toast remains.
    }
  }

  // The switches on the alerts page.
  var sound = document.getElementById("alert-sound");
  if (sound) {
    sound.checked = setting(SOUND);
    sound.addEventListener("change", function () {
      remember(SOUND, sound.checked);
      if (sound.checked) {
        chime();
      }
    });
  }
  var desk = document.getElementById("desktop-alerts");
  var deskState = document.getElementById("desktop-alerts-state");
  function showDesktopState() {
    if (!desk || !window.Notification) {
      return;
    }
    var on = Notification.permission === "granted" && setting(DESKTOP);
    desk.hidden = on || Notification.permission === "denied";
    deskState.hidden = !(on || Notification.permission === "denied");
    deskState.textContent = on
      ? "Desktop alerts are on while this tab is in the background."
      : "Desktop alerts are blocked for this site in your browser settings.";
  }
  if (desk && window.Notification) {
    showDesktopState();
    desk.addEventListener("click", function () {
      Notification.requestPermission().then(function (p) {
        remember(DESKTOP, p === "granted");
        showDesktopState();
      });
    });
  }

  if (!window.EventSource) {
    return;
  }
  var source = new EventSource("/api/v1/notifications/stream");
  source.addEventListener("notification", function (e) {
    var n;
    try {
      n = JSON.parse(e.data);
    } catch (_) {
      return;
    }
    var unread = (parseInt(bell.getAttribute("data-unread"), 10) || 0) + 1;
    setUnread(unread);
    bell.classList.add("ring");
    window.setTimeout(function () {
      bell.classList.remove("ring");
    }, 1500);
    if (status) {
      status.textContent = "New alert: " + n.body;
    }
    addToList(n);
    toast(n);
    chime();
    desktop(n);
  });
  // The server ends the stream at sign-out or when access ends: stop, the
  // next page load tells the rest.
  source.addEventListener("end", function () {
    source.close();
  });
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();
