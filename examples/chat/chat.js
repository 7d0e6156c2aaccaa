/* chat.js - the wsc chat page. Speaks the chat protocol (JSON over text
 * messages, subprotocol "json") with the server at /chat on the page's own
 * host, reconnects with exponential backoff when the server goes away, and
 * renders everything with textContent so nothing a peer sends is ever parsed
 * as HTML.
 *
 * Protocol: server -> {type:"id",id}, {type:"rejectusername",name},
 * {type:"userlist",users:[...]}, {type:"message",id,name,text,date},
 * {type:"error",message}; client -> {type:"username",name,id,date},
 * {type:"message",text,id,date}. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var nameInput = $('name'), loginButton = $('login'), textInput = $('text'),
      sendButton = $('send'), chatbox = $('chatbox'), userlistbox = $('userlistbox'),
      statusBox = $('status');

  var MAX_LINES = 500;          // keep the page's memory bounded
  var BACKOFF_MIN_MS = 500, BACKOFF_MAX_MS = 10000;

  var ws = null;
  var clientId = null;          // from the server's "id" message
  var myName = null;            // null until the user logs in
  var attempt = 0;              // reconnect attempts since the last open
  var retryTimer = null;

  // The chat endpoint on the host that served this page (wss:// under https).
  function chatUrl() {
    var scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return scheme + '//' + location.host + '/chat';
  }

  // Shows the connection state in the header and on <body data-state>, where
  // scripts and tests can wait for it.
  function setStatus(state, text) {
    statusBox.className = 'status ' + state;
    statusBox.textContent = text;
    document.body.dataset.state = state;
  }

  // Enables the message input only when a message could actually be sent.
  function updateControls() {
    var ready = ws !== null && ws.readyState === WebSocket.OPEN && myName !== null;
    textInput.disabled = !ready;
    sendButton.disabled = !ready;
    textInput.placeholder = myName === null ? 'log in to chat' : (ready ? 'message' : 'waiting for the server…');
    loginButton.textContent = myName === null ? 'Log in' : 'Rename';
  }

  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  // "14:03" for a millisecond timestamp, "" when there is none.
  function clock(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '';
    var d = new Date(ms);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
  }

  // Appends one line to the chat box: parts are [className, text] pairs, all
  // set through textContent. Scrolls down unless the reader scrolled up.
  function addLine(cls, parts) {
    var atBottom = chatbox.scrollHeight - chatbox.scrollTop - chatbox.clientHeight < 40;
    var line = document.createElement('div');
    line.className = 'msg ' + cls;
    parts.forEach(function (p) {
      var span = document.createElement('span');
      span.className = p[0];
      span.textContent = p[1];
      line.appendChild(span);
    });
    chatbox.appendChild(line);
    while (chatbox.childElementCount > MAX_LINES) chatbox.removeChild(chatbox.firstElementChild);
    if (atBottom) chatbox.scrollTop = chatbox.scrollHeight;
  }
  function notice(text) { addLine('notice', [['text', text]]); }

  function renderUsers(users) {
    userlistbox.textContent = '';
    users.forEach(function (u) {
      if (typeof u !== 'string') return;
      var li = document.createElement('li');
      li.textContent = u;
      if (u === myName) li.className = 'me';
      userlistbox.appendChild(li);
    });
  }

  function sendJson(obj) {
    if (ws === null || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(obj));
    return true;
  }
  function sendUsername() {
    if (myName !== null && clientId !== null)
      sendJson({ type: 'username', name: myName, id: clientId, date: Date.now() });
  }

  function onMessage(ev) {
    var msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg === null || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'id':
        clientId = msg.id;
        sendUsername();           // (re)joining after a reconnect keeps the name
        break;
      case 'rejectusername':
        if (typeof msg.name === 'string') {
          notice('The name ' + myName + ' is taken: you are ' + msg.name + '.');
          myName = msg.name;
          nameInput.value = msg.name;
        }
        break;
      case 'userlist':
        if (Array.isArray(msg.users)) renderUsers(msg.users);
        break;
      case 'message':
        addLine(msg.id === clientId ? 'mine' : '', [
          ['time', clock(msg.date)],
          ['who', String(msg.name)],
          ['text', String(msg.text)]]);
        break;
      case 'error':
        addLine('error', [['text', 'server: ' + String(msg.message)]]);
        break;
    }
  }

  function connect() {
    retryTimer = null;
    setStatus('connecting', attempt ? 'reconnecting…' : 'connecting…');
    try {
      ws = new WebSocket(chatUrl(), 'json');
    } catch (e) {
      ws = null;
      scheduleReconnect();
      return;
    }
    ws.onopen = function () {
      attempt = 0;
      setStatus('open', 'connected');
      updateControls();
    };
    ws.onmessage = onMessage;
    ws.onclose = function (ev) {
      ws = null;
      clientId = null;
      updateControls();
      if (ev.code === 1009) notice('The server closed the connection: message too big.');
      scheduleReconnect();
    };
  }

  // Exponential backoff with jitter, so many pages do not reconnect at once.
  function scheduleReconnect() {
    var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    delay = Math.round(delay / 2 + Math.random() * delay / 2);
    attempt++;
    setStatus('closed', 'disconnected: retrying in ' + Math.ceil(delay / 1000) + ' s');
    retryTimer = setTimeout(connect, delay);
  }

  $('loginform').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var name = nameInput.value.trim();
    if (name === '') { nameInput.focus(); return; }
    myName = name;
    sendUsername();
    updateControls();
    textInput.focus();
  });

  $('sendform').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = textInput.value;
    if (text.trim() === '' || myName === null) return;
    if (sendJson({ type: 'message', text: text, id: clientId, date: Date.now() })) {
      textInput.value = '';
      textInput.focus();
    }
  });

  // Reconnect at once when the tab comes back or the network returns.
  window.addEventListener('online', function () {
    if (retryTimer !== null) { clearTimeout(retryTimer); connect(); }
  });

  updateControls();
  connect();
})();
