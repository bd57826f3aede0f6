// Live updates: a screen-pop of the caller's card when this employee's phone rings.
(function () {
  "use strict";
  var panel = document.getElementById("screen-pop");
  var retry = 1000;

  function show(message) {
    panel.textContent = "";
    var title = document.createElement("strong");
    var client = message.client;
    title.textContent = !client
      ? "Внутренний звонок"
      : client.is_new
        ? "Новый клиент (" + client.code + ")"
        : "Звонит " + client.short_name + " (" + client.code + ")";
    panel.appendChild(title);
    if (client) {
      var topic = document.createElement("p");
      topic.textContent = client.topic ? "Тематика: " + client.topic : "Тематика не указана";
      panel.appendChild(topic);
      var link = document.createElement("a");
      link.href = client.url;
      link.textContent = "Открыть карточку";
      panel.appendChild(link);
    }
    panel.hidden = false;
    panel.dataset.linkedid = message.linkedid;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws");
    socket.onopen = function () { retry = 1000; document.body.dataset.live = "on"; };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "screen-pop") { show(message); }
      if (message.type === "reminders") { document.dispatchEvent(new CustomEvent("lexcrm:reminders")); }
    };
    socket.onclose = function () {
      document.body.dataset.live = "off";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  if (panel) { connect(); }
})();
