// leadteam: live alerts. Keeps the bell's unread count (and the alerts page)
// up to date from the server-sent events of GET /api/v1/notifications/stream.
// Hand-written, no dependencies; the pages work without it (the count is then
// as of the last page load).
(function () {
  "use strict";
  var bell = document.getElementById("bell");
  if (!bell || !window.EventSource) {
    return;
  }
  var count = document.getElementById("bell-count");
  var status = document.getElementById("live-status");

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
    if (n.client_id) {
      var a = document.createElement("a");
      a.href = "/clients/" + encodeURIComponent(n.client_id);
      a.textContent = n.body;
      p.appendChild(a);
    } else {
      p.textContent = n.body;
    }
    var when = document.createElement("span");
    when.className = "sub";
    when.textContent = " just now";
    p.appendChild(when);
    li.appendChild(p);
    list.insertBefore(li, list.firstChild);
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
