// socketspec docs page: the try-it console.
// Connections (several at once), a filterable log with replies grouped under
// the message that caused them (by envelope `id`), automatic `__pong__`, and
// a "Try it" editor per event. With a server that has resumption on, each
// received frame shows its `seq`, and a connection lost without a close
// frame resumes by itself (`?resume=<token>&last_seq=<n>`), dropping frames
// it already had. No dependencies, no network access besides the WebSockets
// the user opens.
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('socketspec-data').textContent);
  var STORAGE_KEY = 'socketspec:url:' + data.title;
  var MAX_LOG = 500;
  // Resuming a lost connection: the first delay, doubled per failed attempt
  // up to the maximum, and the attempts before giving up.
  var RESUME_DELAY_MS = 250;
  var RESUME_MAX_DELAY_MS = 4000;
  var RESUME_ATTEMPTS = 8;
  // The close code of a connection lost without a closing handshake.
  var ABNORMAL_CLOSE = 1006;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') node.textContent = v;
        else if (k === 'className') node.className = v;
        else if (k.indexOf('data-') === 0 || k.indexOf('aria-') === 0 || k === 'role' || k === 'title' || k === 'type' || k === 'datetime') node.setAttribute(k, v);
        else node[k] = v;
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  // ---------------------------------------------------------------- URLs

  function defaultUrl() {
    var params = new URLSearchParams(location.search);
    if (params.get('ws')) return params.get('ws');
    // Served live: the serving host is the server to talk to.
    if (location.protocol === 'http:' || location.protocol === 'https:') {
      return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + data.wsPath;
    }
    // From a file: the last URL used, else the configured default.
    try {
      var saved = localStorage.getItem(STORAGE_KEY);
      if (saved) return saved;
    } catch (e) { /* storage may be unavailable */ }
    return data.fileWsUrl;
  }

  function rememberUrl(url) {
    try { localStorage.setItem(STORAGE_KEY, url); } catch (e) { /* ignore */ }
  }

  $('#ws-url-display').textContent = defaultUrl();

  // The raw spec and the AsyncAPI document, when the page is served live.
  (function documentLinks() {
    if (location.protocol !== 'http:' && location.protocol !== 'https:') return;
    var base = location.pathname.replace(/\/+$/, '');
    var token = new URLSearchParams(location.search).get('token');
    var suffix = token ? '?token=' + encodeURIComponent(token) : '';
    $('#link-spec').href = base + '/spec.json' + suffix;
    $('#link-asyncapi').href = base + '/asyncapi.json' + suffix;
    $('#downloads').hidden = false;
  })();

  // ---------------------------------------------------------------- JSON

  var TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

  function jsonPre(value) {
    var text = JSON.stringify(value, null, 2);
    if (text === undefined) text = String(value);
    var pre = el('pre', { className: 'json' });
    var last = 0;
    text.replace(TOKEN, function (match, str, colon, lit, offset) {
      if (offset > last) pre.appendChild(document.createTextNode(text.slice(last, offset)));
      var cls = str ? (colon ? 'j-key' : 'j-str') : lit ? 'j-lit' : 'j-num';
      pre.appendChild(el('span', { className: cls, text: str || match }));
      if (str && colon) pre.appendChild(document.createTextNode(colon));
      last = offset + match.length;
      return match;
    });
    if (last < text.length) pre.appendChild(document.createTextNode(text.slice(last)));
    return pre;
  }

  function timeStamp(date) {
    function pad(n, w) { return String(n).padStart(w || 2, '0'); }
    return pad(date.getHours()) + ':' + pad(date.getMinutes()) + ':' + pad(date.getSeconds()) + '.' + pad(date.getMilliseconds(), 3);
  }

  // ---------------------------------------------------------------- log

  var logList = $('#log');
  var logEmpty = $('#log-empty');
  var filterInput = $('#log-filter');
  var filterConn = $('#log-conn');
  var showPings = $('#log-heartbeats');

  var broadcastNames = {};
  data.events.forEach(function (e) { e.broadcasts.forEach(function (b) { broadcastNames[b] = true; }); });

  function isHeartbeat(event) { return event === '__ping__' || event === '__pong__'; }

  // One log entry: a message sent or received, or a note (open, close, error).
  function makeEntry(opts) {
    var kind = opts.kind; // out | in | broadcast | sys | err | note
    var li = el('li', {
      className: 'entry ' + kind,
      'data-conn': String(opts.conn.no),
      'data-event': opts.event || '',
      'data-kind': kind,
      'data-id': opts.id || null,
      'data-seq': typeof opts.seq === 'number' ? String(opts.seq) : null
    });
    var when = new Date();
    var dirLabel = kind === 'out' ? '↑ sent' : kind === 'note' ? 'note' : '↓ received';
    if (kind === 'broadcast') dirLabel = '↓ broadcast';
    li.appendChild(el('div', { className: 'entry-head' }, [
      el('time', { datetime: when.toISOString(), text: timeStamp(when) }),
      el('span', { className: 'conn-badge', title: 'Connection #' + opts.conn.no, text: '#' + opts.conn.no }),
      el('span', { className: 'dir-label', text: dirLabel }),
      opts.event ? el('code', { className: 'ev', text: opts.event }) : el('span', { className: 'ev', text: opts.text || '' }),
      typeof opts.seq === 'number' ? el('span', { className: 'seq', title: 'Sequence number: what a resume continues from', text: 'seq ' + opts.seq }) : null,
      opts.id ? el('span', { className: 'rid', title: 'Correlation id', text: 'id ' + opts.id }) : null
    ]));
    if (opts.message !== undefined) {
      // The header shows the event and id; the body shows the payload. The
      // whole frame stays available as data-raw.
      li.setAttribute('data-raw', JSON.stringify(opts.message));
      var body = opts.message && typeof opts.message === 'object' && 'payload' in opts.message ? opts.message.payload : opts.message;
      li.appendChild(jsonPre(body === undefined ? null : body));
    }
    li._search = ((opts.event || '') + ' ' + (opts.text || '') + ' ' + (opts.message !== undefined ? JSON.stringify(opts.message) : '')).toLowerCase();
    return li;
  }

  function entryVisible(li) {
    var conn = filterConn.value;
    if (conn && li.getAttribute('data-conn') !== conn) return false;
    if (!showPings.checked && isHeartbeat(li.getAttribute('data-event'))) return false;
    var q = filterInput.value.trim().toLowerCase();
    if (q && li._search.indexOf(q) === -1) return false;
    return true;
  }

  function applyFilter(li) { li.hidden = !entryVisible(li); }

  function refreshFilter() {
    $$('#log > li').forEach(applyFilter);
  }

  // Newest first: a request stays where it is while its replies arrive
  // under it.
  function appendLog(li) {
    logList.insertBefore(li, logList.firstChild);
    applyFilter(li);
    while (logList.children.length > MAX_LOG) logList.removeChild(logList.lastChild);
    logEmpty.hidden = true;
  }

  filterInput.addEventListener('input', refreshFilter);
  filterConn.addEventListener('change', refreshFilter);
  showPings.addEventListener('change', refreshFilter);
  filterInput.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape') { filterInput.value = ''; refreshFilter(); }
  });
  $('#log-clear').addEventListener('click', function () {
    logList.textContent = '';
    logEmpty.hidden = false;
  });

  // ---------------------------------------------------------------- connections

  var conns = [];
  var active = null;
  var nextNo = 1;

  function Conn() {
    this.no = nextNo++;
    this.url = conns.length ? conns[conns.length - 1].url : defaultUrl();
    this.auth = 'none';
    this.cred = '';
    this.ws = null;
    this.state = 'idle';
    this.connectionId = null;
    this.nextId = 0;
    this.pending = {};
    // Resumption: the token of the session to resume, the largest seq
    // received, whether this attempt resumes, the outcome of the last one
    // ('resumed' or 'fresh'), and the scheduled attempt.
    this.resumeToken = null;
    this.lastSeq = 0;
    this.resuming = false;
    this.resumeOutcome = '';
    this.resumeAttempts = 0;
    this.resumeTimer = null;
    this.sent = 0;
    this.received = 0;
    this.closeInfo = '';
  }

  Conn.prototype.note = function (text, cls) {
    appendLog(makeEntry({ kind: cls || 'note', conn: this, text: text }));
  };

  // Opens the connection: a fresh one, or with `resume` the session of the
  // one that was lost (its token and the last seq received in the query).
  Conn.prototype.connect = function (resume) {
    var self = this;
    if (this.ws && this.ws.readyState <= 1) return;
    this.cancelResume();
    resume = !!resume && this.resumeToken !== null;
    var target;
    try {
      target = new URL(this.url);
      if (target.protocol !== 'ws:' && target.protocol !== 'wss:') throw new Error('the URL must start with ws: or wss:');
      if (this.auth === 'jwt' && this.cred) target.searchParams.set('token', this.cred);
      if (this.auth === 'apikey' && this.cred) target.searchParams.set('api_key', this.cred);
      if (resume) {
        target.searchParams.set('resume', this.resumeToken);
        target.searchParams.set('last_seq', String(this.lastSeq));
      }
    } catch (e) {
      this.closeInfo = 'Invalid URL: ' + e.message;
      this.state = 'closed';
      renderConns();
      return;
    }
    rememberUrl(this.url);
    this.state = 'connecting';
    this.resuming = resume;
    this.closeInfo = '';
    if (!resume) {
      this.connectionId = null;
      this.pending = {};
      this.resumeToken = null;
      this.lastSeq = 0;
      this.resumeOutcome = '';
      this.resumeAttempts = 0;
    }
    renderConns();
    var ws;
    try {
      ws = new WebSocket(target.toString());
    } catch (e) {
      this.state = 'closed';
      this.closeInfo = e.message;
      renderConns();
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      if (self.ws !== ws) return;
      self.state = 'open';
      self.note('WebSocket open: ' + self.url + (resume ? ' (resuming after seq ' + self.lastSeq + ')' : ''));
      renderConns();
    };
    ws.onmessage = function (ev) {
      if (self.ws !== ws) return;
      if (typeof ev.data === 'string') self.receive(ev.data);
      else if (ev.data && ev.data.text) ev.data.text().then(function (t) { self.receive(t); });
    };
    ws.onerror = function () {
      if (self.ws !== ws) return;
      self.closeInfo = 'connection error';
    };
    ws.onclose = function (ev) {
      if (self.ws !== ws) return;
      self.state = 'closed';
      self.closeInfo = 'closed with code ' + ev.code + (ev.reason ? ' (' + ev.reason + ')' : '');
      self.note('WebSocket ' + self.closeInfo, ev.code === 1000 || ev.code === 1005 ? 'note' : 'err');
      // Lost without a closing handshake: the server keeps the session for
      // a while. A close frame (the server's or Disconnect) ends it.
      if (ev.code === ABNORMAL_CLOSE && self.resumeToken !== null) self.scheduleResume();
      else self.forgetSession();
      renderConns();
    };
  };

  Conn.prototype.disconnect = function () {
    this.forgetSession();
    if (this.ws && this.ws.readyState <= 1) this.ws.close(1000, 'closed from the docs page');
    else if (this.state === 'connecting') { this.state = 'closed'; this.closeInfo = 'closed from the docs page'; }
    renderConns();
  };

  Conn.prototype.cancelResume = function () {
    if (this.resumeTimer !== null) clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
  };

  // Nothing to resume any more: the session ended.
  Conn.prototype.forgetSession = function () {
    this.cancelResume();
    this.resumeToken = null;
    this.resuming = false;
  };

  // The next resume attempt, after a delay that doubles per failed attempt.
  Conn.prototype.scheduleResume = function () {
    var self = this;
    if (this.resumeAttempts >= RESUME_ATTEMPTS) {
      this.note('Gave up resuming after ' + this.resumeAttempts + ' attempts', 'err');
      this.forgetSession();
      return;
    }
    var delay = Math.min(RESUME_MAX_DELAY_MS, RESUME_DELAY_MS * Math.pow(2, this.resumeAttempts));
    this.resumeAttempts++;
    this.state = 'connecting';
    this.resuming = true;
    this.note('Lost without a close frame: resuming after seq ' + this.lastSeq + ' in ' + delay + ' ms (attempt ' + this.resumeAttempts + ')');
    this.resumeTimer = setTimeout(function () {
      self.resumeTimer = null;
      self.ws = null;
      self.connect(true);
    }, delay);
  };

  // `__connect__` arrived: the outcome of a resume attempt, and the token
  // for the next one.
  Conn.prototype.connected = function (payload) {
    var info = payload && typeof payload === 'object' ? payload : {};
    this.state = 'connected';
    this.connectionId = info.connection_id;
    if (this.resuming) {
      var resumed = info.resumed === true;
      this.resumeOutcome = resumed ? 'resumed' : 'fresh';
      if (resumed) {
        this.note('Resumed ' + info.connection_id + ' after seq ' + this.lastSeq + ': the server sends again what this connection missed');
      } else {
        this.note('Fresh connection ' + info.connection_id + ': the session could not be resumed, so replies still awaited will not come', 'err');
        var self = this;
        Object.keys(this.pending).forEach(function (id) {
          var pending = self.pending[id];
          [pending.entry, pending.cardEntry].forEach(function (target) {
            var waiting = target && $('.waiting', target);
            if (waiting) waiting.textContent = 'no reply: the session was not resumed';
          });
        });
        this.pending = {};
        this.lastSeq = 0;
      }
    }
    this.resuming = false;
    this.resumeAttempts = 0;
    this.resumeToken = typeof info.resume_token === 'string' && info.resume_token ? info.resume_token : null;
    renderConns();
  };

  Conn.prototype.isOpen = function () { return this.ws && this.ws.readyState === 1; };

  Conn.prototype.send = function (event, payload, card) {
    if (!this.isOpen()) return null;
    var id = 'c' + this.no + '-' + (++this.nextId);
    var message = { event: event, payload: payload, id: id };
    this.ws.send(JSON.stringify(message));
    this.sent++;
    var entry = makeEntry({ kind: 'out', conn: this, event: event, id: id, message: message });
    entry.appendChild(el('ol', { className: 'replies', 'aria-label': 'Replies' }));
    entry.appendChild(el('div', { className: 'waiting', text: 'waiting for replies…' }));
    appendLog(entry);
    var cardEntry = null;
    if (card) {
      cardEntry = entry.cloneNode(true);
      cardEntry.hidden = false;
      var list = $('.exchanges', card);
      list.insertBefore(cardEntry, list.firstChild);
      while (list.children.length > 3) list.removeChild(list.lastChild);
    }
    this.pending[id] = { entry: entry, cardEntry: cardEntry };
    renderStatus();
    return id;
  };

  Conn.prototype.sendSystem = function (event, payload) {
    if (!this.isOpen()) return;
    var message = { event: event, payload: payload };
    this.ws.send(JSON.stringify(message));
    appendLog(makeEntry({ kind: 'sys', conn: this, event: event, message: message }));
  };

  Conn.prototype.receive = function (text) {
    var message;
    try { message = JSON.parse(text); } catch (e) {
      this.note('Not JSON: ' + text, 'err');
      return;
    }
    var event = message && typeof message.event === 'string' ? message.event : '';
    var id = message && typeof message.id === 'string' ? message.id : null;
    var seq = message && typeof message.seq === 'number' && message.seq > 0 && Math.floor(message.seq) === message.seq ? message.seq : null;
    if (seq !== null) {
      if (seq <= this.lastSeq) {
        this.note('Dropped seq ' + seq + ' (' + event + '): received before the resume');
        return;
      }
      this.lastSeq = seq;
    }
    this.received++;
    var kind = 'in';
    if (event === '__error__') kind = 'err';
    else if (/^__.*__$/.test(event)) kind = 'sys';
    else if (!id && broadcastNames[event]) kind = 'broadcast';

    if (event === '__connect__') this.connected(message.payload);
    if (event === '__disconnect__') this.forgetSession();
    var pending = id && this.pending[id];
    var entry = makeEntry({ kind: kind, conn: this, event: event, id: id, seq: seq, message: message });
    if (pending) {
      [pending.entry, pending.cardEntry].forEach(function (target, i) {
        if (!target) return;
        var reply = i === 0 ? entry : entry.cloneNode(true);
        $('.replies', target).appendChild(reply);
        var waiting = $('.waiting', target);
        if (waiting) waiting.remove();
      });
      pending.entry._search += ' ' + entry._search;
      applyFilter(pending.entry);
    } else {
      appendLog(entry);
    }
    if (event === '__ping__') this.sendSystem('__pong__', {});
    renderStatus();
  };

  // ---------------------------------------------------------------- connection UI

  var tabs = $('#conn-tabs');
  var urlInput = $('#conn-url');
  var authSelect = $('#conn-auth');
  var credInput = $('#conn-cred');
  var connectBtn = $('#conn-connect');
  var disconnectBtn = $('#conn-disconnect');
  var statusLine = $('#conn-status');

  function addConn() {
    var c = new Conn();
    conns.push(c);
    active = c;
    renderConns();
    return c;
  }

  function select(c) {
    active = c;
    renderConns();
  }

  function renderConns() {
    tabs.textContent = '';
    conns.forEach(function (c) {
      var tab = el('button', {
        type: 'button',
        className: 'conn-tab',
        role: 'tab',
        'aria-selected': c === active ? 'true' : 'false',
        'data-conn': String(c.no),
        tabIndex: c === active ? 0 : -1,
        title: 'Connection #' + c.no + ': ' + c.state
      }, [el('span', { className: 'dot', 'data-state': c.state, 'aria-hidden': 'true' }), '#' + c.no]);
      tab.addEventListener('click', function () { select(c); });
      tabs.appendChild(tab);
    });
    // The log's connection filter.
    var current = filterConn.value;
    filterConn.textContent = '';
    filterConn.appendChild(el('option', { value: '', text: 'All' }));
    conns.forEach(function (c) { filterConn.appendChild(el('option', { value: String(c.no), text: '#' + c.no })); });
    filterConn.value = conns.some(function (c) { return String(c.no) === current; }) ? current : '';
    // The form shows the selected connection.
    urlInput.value = active.url;
    authSelect.value = active.auth;
    credInput.value = active.cred;
    credInput.disabled = active.auth === 'none';
    credInput.placeholder = active.auth === 'jwt' ? 'eyJhbGciOi…' : active.auth === 'apikey' ? 'your API key' : '—';
    var busy = active.state === 'connecting' || active.state === 'open' || active.state === 'connected';
    connectBtn.disabled = busy;
    disconnectBtn.disabled = !busy;
    urlInput.disabled = busy;
    authSelect.disabled = busy;
    if (busy) credInput.disabled = true;
    $$('.send .via').forEach(function (v) { v.textContent = 'via #' + active.no; });
    renderStatus();
  }

  function renderStatus() {
    var c = active;
    var text;
    switch (c.state) {
      case 'idle': text = 'Not connected'; break;
      case 'connecting': text = c.resuming ? 'Resuming after seq ' + c.lastSeq + '…' : 'Connecting…'; break;
      case 'open': text = 'Open, waiting for __connect__…'; break;
      case 'connected':
        text = 'Connected · ' + (c.connectionId || '') +
          (c.resumeOutcome ? ' · ' + c.resumeOutcome : '') +
          (c.lastSeq ? ' · seq ' + c.lastSeq : '') +
          ' · ' + c.sent + ' sent, ' + c.received + ' received';
        break;
      default: text = 'Disconnected' + (c.closeInfo ? ': ' + c.closeInfo : '');
    }
    statusLine.setAttribute('data-state', c.state);
    statusLine.setAttribute('data-conn', String(c.no));
    statusLine.setAttribute('data-resume', c.resuming ? 'resuming' : c.resumeOutcome);
    statusLine.setAttribute('data-connection-id', c.connectionId || '');
    statusLine.setAttribute('data-last-seq', String(c.lastSeq));
    statusLine.textContent = '';
    statusLine.appendChild(el('span', { className: 'dot', 'data-state': c.state, 'aria-hidden': 'true' }));
    statusLine.appendChild(document.createTextNode('#' + c.no + ' ' + text));
    var dots = $$('.conn-tab .dot');
    conns.forEach(function (cc, i) { if (dots[i]) dots[i].setAttribute('data-state', cc.state); });
  }

  urlInput.addEventListener('input', function () { active.url = urlInput.value.trim(); });
  authSelect.addEventListener('change', function () {
    active.auth = authSelect.value;
    renderConns();
    if (active.auth !== 'none') credInput.focus();
  });
  credInput.addEventListener('input', function () { active.cred = credInput.value.trim(); });
  $('#conn-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    active.url = urlInput.value.trim();
    active.connect();
  });
  disconnectBtn.addEventListener('click', function () { active.disconnect(); });
  $('#conn-new').addEventListener('click', function () {
    addConn();
    connectBtn.focus();
  });
  $('#conn-remove').addEventListener('click', function () {
    var c = active;
    c.disconnect();
    c.ws = null;
    conns.splice(conns.indexOf(c), 1);
    if (!conns.length) addConn();
    else { active = conns[conns.length - 1]; renderConns(); }
  });
  tabs.addEventListener('keydown', function (ev) {
    var i = conns.indexOf(active);
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
      ev.preventDefault();
      var next = conns[(i + (ev.key === 'ArrowRight' ? 1 : conns.length - 1)) % conns.length];
      select(next);
      var tab = $('.conn-tab[data-conn="' + next.no + '"]');
      if (tab) tab.focus();
    }
  });

  // ---------------------------------------------------------------- try it

  function trySend(card) {
    var event = card.getAttribute('data-event');
    var editor = $('.editor', card);
    var msg = $('.try-msg', card);
    msg.className = 'try-msg';
    var text = editor.value.trim();
    var payload;
    try {
      payload = text ? JSON.parse(text) : {};
    } catch (e) {
      editor.classList.add('invalid');
      msg.className = 'try-msg error';
      msg.textContent = 'Not valid JSON: ' + e.message;
      return;
    }
    editor.classList.remove('invalid');
    if (!active.isOpen()) {
      msg.className = 'try-msg error';
      msg.textContent = 'Connection #' + active.no + ' is not open: press Connect in the console first.';
      return;
    }
    var id = active.send(event, payload, card);
    msg.textContent = 'Sent as ' + id + ' via #' + active.no + '.';
  }

  $$('article.card').forEach(function (card) {
    var editor = $('.editor', card);
    $('.send', card).addEventListener('click', function () { trySend(card); });
    $('.reset', card).addEventListener('click', function () {
      editor.value = editor.defaultValue;
      editor.classList.remove('invalid');
      editor.focus();
    });
    editor.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        trySend(card);
      }
    });
    $('details.try', card).addEventListener('toggle', function (ev) {
      if (ev.target.open) editor.focus();
    });
  });

  // ---------------------------------------------------------------- navigation

  var tocFilter = $('#toc-filter');
  tocFilter.addEventListener('input', function () {
    var q = tocFilter.value.trim().toLowerCase();
    $$('[data-toc-event]').forEach(function (li) {
      li.hidden = q !== '' && li.getAttribute('data-toc-event').toLowerCase().indexOf(q) === -1;
    });
  });
  tocFilter.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter') {
      var first = $$('[data-toc-event]').filter(function (li) { return !li.hidden; })[0];
      if (first) { $('a', first).click(); var card = document.getElementById($('a', first).hash.slice(1)); if (card) card.querySelector('summary, a').focus(); }
    } else if (ev.key === 'Escape') {
      tocFilter.value = '';
      tocFilter.dispatchEvent(new Event('input'));
    }
  });
  document.addEventListener('keydown', function (ev) {
    var t = ev.target;
    var typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
    if (ev.key === '/' && !typing && !ev.ctrlKey && !ev.metaKey) {
      ev.preventDefault();
      (tocFilter.offsetParent ? tocFilter : filterInput).focus();
    }
  });

  addConn();
})();
