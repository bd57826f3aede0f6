// Live updates: a screen-pop of the caller's card when this employee's phone rings.
(function () {
  "use strict";
  var panel = document.getElementById("screen-pop");
  var retry = 1000;

  function show(message) {
    // The words come translated from the page (the data- attributes of the panel).
    var words = panel.dataset;
    panel.textContent = "";
    var title = document.createElement("strong");
    var client = message.client;
    title.textContent = !client
      ? words.internal
      : client.is_new
        ? words.new + " (" + client.code + ")"
        : words.calling + " " + client.short_name + " (" + client.code + ")";
    panel.appendChild(title);
    if (client) {
      var topic = document.createElement("p");
      topic.textContent = client.topic ? words.topic + " " + client.topic : words.noTopic;
      panel.appendChild(topic);
      var link = document.createElement("a");
      link.href = client.url;
      link.textContent = words.open;
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
