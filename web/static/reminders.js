// The reminder window: stays over the workspace until the server says a real call settled it.
(function () {
  "use strict";
  var backdrop = document.getElementById("reminder-window");
  if (!backdrop) { return; }
  var current = null;
  var timer = null;
  var token = (document.querySelector("input[name=csrf_token]") || {}).value || "";

  function byId(id) { return document.getElementById(id); }

  // While the window is open the page behind it is inert: the backdrop stops the mouse,
  // and this stops the keyboard, whose Tab would otherwise walk into the workspace's
  // links and forms and use them with Enter.
  function blockBehind(blocked) {
    Array.prototype.forEach.call(document.body.children, function (element) {
      if (element !== backdrop && element.tagName !== "SCRIPT") { element.inert = blocked; }
    });
  }

  function post(url, fields, redirect) {
    var body = new URLSearchParams(fields || {});
    body.set("csrf_token", token);
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: redirect || "follow",
      headers: { "Accept": "application/json" },
    });
  }

  function refuse(text) {
    var refusal = byId("reminder-refusal");
    refusal.textContent = text;
    refusal.hidden = false;
  }

  function render(reminder) {
    if (current && current.id !== reminder.id) {
      // The next reminder in the queue: the previous one's notices do not apply to it.
      byId("reminder-calling").hidden = true;
      byId("reminder-refusal").hidden = true;
    }
    current = reminder;
    byId("reminder-reason").textContent = reminder.reason;
    var link = byId("reminder-client");
    link.textContent = reminder.client.name;
    link.href = reminder.client.url;
    byId("reminder-code").textContent = reminder.client.code;
    byId("reminder-due").textContent = reminder.due;
    byId("reminder-call").hidden = !reminder.can_call;
    byId("reminder-comment").hidden = !reminder.waiting_comment_call;
    var queued = byId("reminder-queued");
    queued.hidden = !reminder.queued;
    queued.querySelector("span").textContent = String(reminder.queued);
    backdrop.dataset.reminder = String(reminder.id);
    if (backdrop.hidden) {
      blockBehind(true);
      backdrop.hidden = false;
      document.body.classList.add("reminder-open");
      byId("reminder-call").focus();
    }
  }

  function close() {
    current = null;
    backdrop.hidden = true;
    blockBehind(false);
    delete backdrop.dataset.reminder;
    document.body.classList.remove("reminder-open");
    byId("reminder-calling").hidden = true;
    byId("reminder-refusal").hidden = true;
  }

  function check() {
    // A POST: asking marks the reminder as shown and settles it, and GET changes nothing.
    post("/reminders/due")
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        if (body.reminder) { render(body.reminder); } else if (current) { close(); }
      })
      .catch(function () { /* the next tick tries again */ })
      .then(schedule);
  }

  function schedule() {
    clearTimeout(timer);
    // While the window is open the server is asked twice a second, so it closes within one
    // even where no websocket push comes (web and controller in separate processes).
    timer = setTimeout(check, current ? 500 : 30000);
  }

  byId("reminder-call").addEventListener("click", function () {
    if (!current) { return; }
    var calling = byId("reminder-calling");
    byId("reminder-refusal").hidden = true;
    calling.hidden = false;
    // A placed call is answered with a redirect to the client's card. The window stays
    // where it is: following it would fetch the card, and the journal would show a visit
    // to it that nobody made. A refusal (no desk phone, not one's client) is shown.
    post("/clients/" + current.client.id + "/call", null, "manual")
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.ok) { return; }
        calling.hidden = true;
        return response.text().then(refuse);
      })
      .catch(function () { calling.hidden = true; });
  });

  byId("reminder-dismiss").addEventListener("click", function () {
    if (!current) { return; }
    post("/reminders/" + current.id + "/dismiss").then(function (response) {
      if (response.ok) { check(); return; }
      return response.text().then(refuse);
    });
  });

  byId("reminder-comment").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current || !current.waiting_comment_call) { return; }
    var comment = event.target.elements.comment.value;
    post("/calls/" + current.waiting_comment_call + "/comment", { comment: comment })
      .then(function () { event.target.reset(); check(); });
  });

  // No way around it: Escape does nothing, and clicks outside the window reach nothing.
  document.addEventListener("keydown", function (event) {
    if (current && event.key === "Escape") { event.preventDefault(); event.stopPropagation(); }
  }, true);
  backdrop.addEventListener("click", function (event) {
    if (event.target === backdrop) { event.preventDefault(); event.stopPropagation(); }
  });
  document.addEventListener("lexcrm:reminders", check);
  check();
})();
