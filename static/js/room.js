/* Quorum live room client.
 *
 * Plain ES2017 (no framework, no build step) using only APIs that iOS Safari and WeChat's built-in browser
 * support: WebSocket, RTCPeerConnection, getUserMedia, addTransceiver. The server offers the viewer
 * connection and this page answers; for publishing the page offers (only an offer can name the camera's
 * simulcast layers) and the server answers. Each viewer connection has four fixed slots in this order:
 * camera video, screen video, lecturer audio, speaker audio; the server picks the camera layer her link
 * carries, or sound only (`auto_audio_only`) until it recovers. The page reconnects by itself and says so.
 *
 * Recovery, because phones move between cells and Wi-Fi and lock their screens:
 * - the socket: a heartbeat every 5 s answered by `pong`; 12 s without any message means a half-open
 *   socket, closed and reopened. `online` and a return to the page reconnect at once; a server restart
 *   (`restarting`, close code 1012) is retried every second.
 * - media: the page watches what its viewer connection receives (RTP packets and the server's ICE
 *   keepalives, once a second) because browsers keep calling a connection "connected" through a cut; after
 *   about 2 s without anything the state line says 重新连接中. Short cuts heal by themselves (the server asks
 *   the lecturer for a keyframe when the leg is back); a leg that failed (said by the server, or by the
 *   browser) or stays down is replaced by a fresh one.
 */
(function () {
  'use strict';

  var root = document.getElementById('room');
  if (!root || !window.WebSocket) { return; }
  var cfg = JSON.parse(root.getAttribute('data-config'));
  var iceServers = JSON.parse(root.getAttribute('data-ice') || '[]');
  var L = JSON.parse(root.getAttribute('data-labels'));
  var $ = function (id) { return document.getElementById(id); };

  var ws = null;
  var backoff = 1000;
  var heartbeat = null;
  var status = cfg.status;
  var viewPc = null;
  var pubPcs = {};          // source -> RTCPeerConnection
  var localStreams = {};    // source -> MediaStream
  var wanted = {};          // sources this page publishes; re-published after a reconnect
  var autoAudioOnly = false;  // the server sends sound only: her link cannot carry video now
  var canSpeak = false;
  var handUp = false;
  var people = [];
  var lastMessageAt = Date.now();
  var heartbeatPending = 0;   // when the oldest unanswered heartbeat went out (0: none)
  var openedAt = 0;
  var reconnectTimer = null;
  var restarting = false;
  var restartingSince = 0;
  var media = { total: -1, changedAt: Date.now(), down: false, resubscribedAt: 0 };
  // Exposed for diagnostics and the browser test.
  window.quorumRoom = { get viewPc() { return viewPc; }, get pubPcs() { return pubPcs; } };

  function setConn(state) {
    var el = $('conn');
    if (el) { el.textContent = L[state] || state; el.setAttribute('data-state', state); }
  }

  function notice(text) {
    var el = $('notice');
    if (!el) { return; }
    el.textContent = text;
    el.hidden = !text;
  }

  function send(msg) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(msg)); }
  }

  function show(state) {
    status = state;
    root.setAttribute('data-state', state);
    var lobby = $('lobby'), live = $('live'), ended = $('ended');
    if (lobby) { lobby.hidden = state !== 'scheduled'; }
    if (live) { live.hidden = state !== 'live'; }
    if (ended) { ended.hidden = state !== 'ended'; }
  }

  // With several servers the room is on one of them: the page first asks where (the room may have
  // moved since the last connection: its server stopped or died), then opens the socket there.
  // A server that stopped answering is still named as the room's until its lease runs out (a few
  // seconds): told the socket that just failed again, and that its server has missed a heartbeat
  // (`settle_ms` > 0), the page waits that long (plus jitter) and asks once more, by when the room has
  // moved if that server is gone.
  var located = false;      // cfg.ws is fresh from the page itself for the first connection
  var failedWs = null;      // the socket URL that last failed to hold
  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (!restarting) { setConn(ws ? 'reconnecting' : 'connecting'); }
    if (!cfg.locate || !located) { located = true; return openSocket(cfg.ws); }
    var asked = ws = { readyState: 0 };   // a placeholder: the checks below treat it as connecting
    lastMessageAt = Date.now();
    fetch(cfg.locate, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (j) {
        if (ws !== asked) { return; }
        // Once per failure: the next answer is followed whatever it says.
        if (j.ws === failedWs && j.settle_ms > 0) {
          failedWs = null;
          ws = { readyState: 3 };   // waiting, not connecting: the watchdog leaves the wait alone
          reconnectTimer = setTimeout(connect, j.settle_ms + Math.random() * 1000);
          return;
        }
        openSocket(j.ws);
      })
      .catch(function () { if (ws === asked) { retry(); } });
  }

  function openSocket(url) {
    var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var sock = new WebSocket(url.charAt(0) === '/' ? proto + location.host + url : url);
    ws = sock;
    lastMessageAt = Date.now();
    sock.onopen = function () {
      failedWs = null;
      openedAt = Date.now();
      restarting = false;
      heartbeatPending = 0;
      setConn('connected');
      clearInterval(heartbeat);
      heartbeat = setInterval(function () {
        if (!heartbeatPending) { heartbeatPending = Date.now(); }
        send({ type: 'heartbeat' });
      }, 5000);
    };
    sock.onmessage = function (e) { lastMessageAt = Date.now(); heartbeatPending = 0; handle(JSON.parse(e.data)); };
    sock.onclose = function (e) {
      if (sock !== ws) { return; }
      clearInterval(heartbeat);
      closeAll();
      if (root.getAttribute('data-removed')) { return; }
      // The back-off starts again only after a socket that held: one closed at once (refused, or a
      // server in trouble) keeps backing off, up to 30 s.
      if (openedAt && Date.now() - openedAt > 10000) { backoff = 1000; }
      openedAt = 0;
      if (e && e.code === 1012 && !restarting) { restarting = true; restartingSince = Date.now(); }
      if (!e || (e.code !== 1000 && e.code !== 1012)) { failedWs = url; }
      retry();
    };
  }

  function retry() {
    // A restart (or a server handing its rooms over) lasts seconds: retry about every second (with
    // jitter, so a room's phones do not all knock at once) for half a minute, then back off as for any
    // other loss.
    if (restarting && Date.now() - restartingSince > 30000) { restarting = false; }
    setConn(restarting ? 'restarting' : (navigator.onLine === false ? 'offline' : 'reconnecting'));
    var wait = restarting ? 1000 + Math.random() * 1000 : backoff + Math.random() * backoff / 2;
    if (!restarting) { backoff = Math.min(backoff * 2, 30000); }
    reconnectTimer = setTimeout(connect, wait);
  }

  // Drops a socket that may be half-open and connects again now.
  function reconnectNow() {
    if (root.getAttribute('data-removed')) { return; }
    var old = ws;
    ws = null;
    if (old) { old.onclose = null; old.onmessage = null; try { old.close(); } catch (e) { /* already closed */ } }
    clearInterval(heartbeat);
    closeAll();
    backoff = 1000;
    connect();
  }

  // A heartbeat unanswered for 10 s means the socket is dead on its way (timed from the heartbeat, not
  // the clock: a phone that froze the page in the background must not count the freeze); a socket
  // still connecting after 10 s is given up too.
  setInterval(function () {
    if (!ws) { return; }
    if (ws.readyState === 1 && heartbeatPending && Date.now() - heartbeatPending > 10000) { reconnectNow(); }
    if (ws.readyState === 0 && Date.now() - lastMessageAt > 10000) { reconnectNow(); }
  }, 2000);
  window.addEventListener('online', function () { reconnectNow(); });
  window.addEventListener('offline', function () { setConn('offline'); });
  document.addEventListener('visibilitychange', function () {
    // Back from a locked screen: a socket quiet for a while probably died meanwhile.
    if (document.visibilityState === 'visible' && Date.now() - lastMessageAt > 6000) { reconnectNow(); }
  });

  function closeAll() {
    if (viewPc) { viewPc.close(); viewPc = null; }
    mediaUp();
    Object.keys(pubPcs).forEach(function (k) { pubPcs[k].close(); delete pubPcs[k]; });
  }

  function subscribe() {
    // Without WebRTC nothing can answer the server's offer (the page offers /listen instead).
    if (!window.RTCPeerConnection) { return; }
    media.resubscribedAt = Date.now();
    send({ type: 'subscribe', audio_only: !!($('audio-only') && $('audio-only').checked) });
  }

  // A fresh viewer leg, at most every 3 s.
  function resubscribe() {
    if (status !== 'live' || !ws || ws.readyState !== 1 || Date.now() - media.resubscribedAt < 3000) { return; }
    subscribe();
  }

  function mediaDown() {
    if (!media.down) { media.down = true; setConn('media_down'); }
  }

  function mediaUp() {
    if (media.down) {
      media.down = false;
      if (ws && ws.readyState === 1) { setConn('connected'); }
    }
  }

  // What the viewer connection has received so far: RTP packets and ICE checks (the server sends one a
  // second, so this grows even when nobody publishes).
  function received(stats) {
    var total = 0;
    stats.forEach(function (r) {
      if (r.type === 'inbound-rtp') { total += r.packetsReceived || 0; }
      if (r.type === 'candidate-pair' && (r.nominated || r.state === 'succeeded')) {
        total += (r.requestsReceived || 0) + (r.responsesReceived || 0);
      }
    });
    return total;
  }

  setInterval(function () {
    var pc = viewPc;
    if (!pc || status !== 'live') { return; }
    if (pc.connectionState === 'failed') { mediaDown(); resubscribe(); return; }
    pc.getStats().then(function (stats) {
      if (pc !== viewPc) { return; }
      var total = received(stats), now = Date.now();
      // A new connection's first reading is its baseline, not news that media flows.
      if (media.total < 0) { media.total = total; media.changedAt = now; return; }
      // Only growth is traffic. Totals can shrink when the browser switches candidate pairs: that is a
      // new baseline, neither media back nor media gone.
      if (total < media.total) { media.total = total; return; }
      if (total > media.total) {
        media.total = total;
        media.changedAt = now;
        mediaUp();
        return;
      }
      var quiet = now - media.changedAt;
      if (quiet > 1800) { mediaDown(); }
      // A cut of a few seconds heals by itself; longer, and a fresh leg is quicker than waiting.
      if (quiet > 8000) { resubscribe(); }
    }).catch(function () { /* closed meanwhile */ });
  }, 500);

  function handle(m) {
    switch (m.type) {
      case 'welcome':
        canSpeak = m.can_speak;
        show(m.status);
        renderChat(m.chat, true);
        renderHands(m.hands);
        if (m.status === 'live') { subscribe(); }
        if (m.status !== 'ended') {
          Object.keys(wanted).forEach(offerPublish);
        }
        updateSpeak();
        if (m.quiz) { openQuiz(m.quiz); }
        break;
      case 'status':
        var was = status;
        show(m.status);
        if (m.status === 'live' && was !== 'live') { subscribe(); }
        if (m.status === 'ended') { closeAll(); stopLocal(); }
        break;
      case 'offer':
        if (!window.RTCPeerConnection) { break; }
        if (m.leg === 'view') { answerView(m.sdp); }
        break;
      case 'answer':
        var ppc = pubPcs[m.leg];
        if (ppc && ppc.signalingState === 'have-local-offer') {
          ppc.setRemoteDescription({ type: 'answer', sdp: m.sdp })
            .then(function () { if (m.leg === 'screen') { keepResolution(ppc); } })
            .catch(function (err) { notice(String(err)); });
        }
        break;
      case 'auto_audio_only':
        // Her link cannot carry video now: only sound comes, and video returns by itself. Her own
        // audio-only switch says the rest.
        autoAudioOnly = m.on;
        var a = $('audio-only');
        if (a && a.checked) { break; }
        var sn = $('stage-note');
        if (sn) { sn.textContent = m.on ? L.auto_audio_only : ''; sn.hidden = !m.on; }
        if (!m.on) { notice(L.video_back); }
        else if ($('notice') && $('notice').textContent === L.video_back) { notice(''); }
        break;
      case 'pong': break;
      case 'ice': iceServers = m.servers; break;
      case 'leg':
        // The server's view of a media leg: down (no packets), up again, or failed (closed there).
        if (m.leg === 'view') {
          if (m.state === 'down') { mediaDown(); }
          if (m.state === 'failed') { mediaDown(); resubscribe(); }
        } else if (m.state === 'failed' && wanted[m.leg]) {
          offerPublish(m.leg);
        }
        break;
      case 'restarting':
        if (!restarting) { restarting = true; restartingSince = Date.now(); }
        setConn('restarting');
        break;
      // The queue names people from this list: draw it again with the names that just came.
      case 'people': people = m.people; renderPeople(); renderHands(lastQueue); break;
      case 'chat': renderChat([m.message], false); break;
      case 'chat_removed':
        var li = document.querySelector('#chat li[data-id="' + m.id + '"]');
        if (li) { li.parentNode.removeChild(li); }
        break;
      case 'hands': renderHands(m.queue); break;
      case 'speak':
        canSpeak = m.allowed;
        notice(m.allowed ? L.speak_allowed + (recording === 'recording' ? ' ' + L.voice_recorded : '') : L.speak_revoked);
        if (!m.allowed) { stopSource('mic'); }
        if (m.allowed) { checkMic(); }
        handUp = false;
        updateSpeak();
        break;
      case 'muted':
        notice(m.muted ? L.muted : L.unmuted);
        Object.keys(localStreams).forEach(function (s) {
          localStreams[s].getAudioTracks().forEach(function (t) { t.enabled = !m.muted; });
        });
        break;
      case 'unpublished': stopSource(m.source); break;
      case 'removed':
        root.setAttribute('data-removed', '1');
        closeAll(); stopLocal();
        setConn('removed');
        show('removed');
        break;
      case 'attendance': renderAttendance(m.rows); break;
      case 'quiz_counter':
        var qc = $('quiz-counter');
        if (qc) { qc.textContent = L.counter.replace('{p}', m.present).replace('{s}', m.started).replace('{d}', m.submitted).replace('{ok}', m.passed); }
        break;
      case 'quiz':
        notice(L.quiz);
        openQuiz(m.url);
        break;
      case 'recording': showRecording(m.state); break;
      case 'error': notice(m.message); break;
      case 'chat_wait': notice(L.chat_wait.replace('{n}', m.seconds)); break;
      case 'role':
        // Rights changed (e.g. an admin removed a street): the server renders the controls of the new role.
        if (m.role !== cfg.role) { closeAll(); stopLocal(); location.reload(); }
        break;
    }
  }

  // Completes ICE gathering before sending the SDP (no trickle: simpler, and fast with host/TURN candidates).
  function gathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === 'complete') { return resolve(); }
      var done = function () { if (pc.iceGatheringState === 'complete') { resolve(); } };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 2000);
    });
  }

  function answerView(sdp) {
    if (viewPc) { viewPc.close(); }
    // A new leg starts with video: a sound-only notice from the old one no longer holds.
    if (autoAudioOnly) {
      autoAudioOnly = false;
      var a = $('audio-only');
      var sn = $('stage-note');
      if (sn && !(a && a.checked)) { sn.textContent = ''; sn.hidden = true; }
    }
    var pc = new RTCPeerConnection({ iceServers: iceServers });
    viewPc = pc;
    media.total = -1;
    media.changedAt = Date.now();
    pc.ontrack = function (e) {
      var slot = pc.getTransceivers().indexOf(e.transceiver);
      var el = [$('camera'), $('screen'), $('audio-lecturer'), $('audio-speaker')][slot];
      if (!el) { return; }
      el.srcObject = new MediaStream([e.track]);
      if (slot === 1) { e.track.onunmute = function () { el.hidden = false; }; }
      var p = el.play();
      if (p && p.catch) { p.catch(function () { var b = $('sound'); if (b) { b.hidden = false; } }); }
    };
    pc.setRemoteDescription({ type: 'offer', sdp: sdp })
      .then(function () { return pc.createAnswer(); })
      .then(function (a) { return pc.setLocalDescription(a); })
      .then(function () { return gathered(pc); })
      // A newer offer replaced this connection meanwhile: its answer would land on the new leg.
      .then(function () { if (pc === viewPc) { send({ type: 'answer', leg: 'view', sdp: pc.localDescription.sdp }); } })
      .catch(function (err) { notice(String(err)); });
  }

  // The camera in three layers (simulcast): the server forwards each viewer the one her link carries.
  // The page makes the offer: only an offer can name the layers.
  var LAYERS = [
    { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000 },
    { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500000 },
    { rid: 'h', maxBitrate: 1500000 }
  ];

  function offerPublish(source) {
    var stream = localStreams[source];
    if (!stream || !window.RTCPeerConnection) { return; }
    if (pubPcs[source]) { pubPcs[source].close(); }
    var pc = new RTCPeerConnection({ iceServers: iceServers });
    pubPcs[source] = pc;
    // A publishing leg that failed (the network changed under it) is offered again.
    pc.onconnectionstatechange = function () {
      if (pc.connectionState === 'failed' && pubPcs[source] === pc && wanted[source]) { offerPublish(source); }
    };
    stream.getTracks().forEach(function (track) {
      var init = { direction: 'sendonly', streams: [stream] };
      if (track.kind === 'video' && source === 'camera') {
        try { pc.addTransceiver(track, { direction: 'sendonly', streams: [stream], sendEncodings: LAYERS }); return; }
        catch (e) { /* a browser without simulcast publishes one layer */ }
      }
      // A shared screen keeps its resolution (text stays legible) and gives up frame rate instead:
      // here when the lecturer's uplink is short, and per viewer in the server, which forwards a
      // weak link fewer of the three temporal layers.
      if (track.kind === 'video' && source === 'screen') {
        if ('contentHint' in track) { track.contentHint = 'detail'; }
        try { pc.addTransceiver(track, { direction: 'sendonly', streams: [stream], sendEncodings: [{ scalabilityMode: 'L1T3' }] }); return; }
        catch (e) { /* a browser without temporal layers sends every frame to everyone */ }
      }
      pc.addTransceiver(track, init);
    });
    pc.createOffer()
      .then(function (o) { return pc.setLocalDescription(o); })
      .then(function () { return gathered(pc); })
      .then(function () { if (pubPcs[source] === pc) { send({ type: 'publish', source: source, sdp: pc.localDescription.sdp }); } })
      .catch(function (err) { notice(String(err)); });
  }

  function keepResolution(pc) {
    pc.getSenders().forEach(function (sender) {
      if (!sender.track || sender.track.kind !== 'video' || !sender.getParameters) { return; }
      var params = sender.getParameters();
      params.degradationPreference = 'maintain-resolution';
      sender.setParameters(params).catch(function () { /* the content hint says the same */ });
    });
  }

  function publish(source) {
    var media;
    if (source === 'screen') {
      if (!navigator.mediaDevices.getDisplayMedia) { return notice(L.no_camera); }
      media = navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 10 } });
    } else if (source === 'mic') {
      media = navigator.mediaDevices.getUserMedia({ audio: true });
    } else {
      media = navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720, frameRate: 20 } });
    }
    media.then(function (stream) {
      localStreams[source] = stream;
      wanted[source] = true;
      stream.getVideoTracks().forEach(function (t) { t.onended = function () { stopSource(source); }; });
      if (source === 'camera') { var c = $('camera'); c.srcObject = stream; c.play(); }
      offerPublish(source);
      if (source === 'mic') { notice(L.speaking_now); updateSpeak(); }
      else { var u = $('unpublish'); if (u) { u.hidden = false; } }
    }).catch(function () { notice(L.no_camera); });
  }

  function stopSource(source) {
    delete wanted[source];
    if (pubPcs[source]) { pubPcs[source].close(); delete pubPcs[source]; }
    if (localStreams[source]) {
      localStreams[source].getTracks().forEach(function (t) { t.stop(); });
      delete localStreams[source];
    }
    send({ type: 'unpublish', source: source });
    if (source === 'mic') { updateSpeak(); }
  }

  function stopLocal() { Object.keys(localStreams).forEach(stopSource); }

  // Her own actions answer in words, not colour only: 举手 becomes 已举手 · 放下手, and while the microphone
  // is on the speak button reads 结束发言.
  function updateSpeak() {
    var s = $('speak'), h = $('hand'), speaking = !!localStreams.mic;
    if (s) {
      s.hidden = !canSpeak;
      s.textContent = speaking ? L.speak_end : L.speak;
      s.setAttribute('aria-pressed', speaking ? 'true' : 'false');
      s.className = speaking ? 'speaking' : '';
    }
    if (h) {
      h.hidden = canSpeak;
      h.textContent = handUp ? L.hand_up : L.raise;
      h.setAttribute('aria-pressed', handUp ? 'true' : 'false');
      h.className = handUp ? 'hand-up' : '';
    }
  }

  // The quiz inside the room: the frame loads the quiz pages while the socket and media stay connected,
  // so the lecture keeps playing and attendance keeps counting.
  var quizUrl = null;
  function openQuiz(url) {
    var panel = $('quiz-panel'), frame = $('quiz-frame');
    if (!panel || !frame) { location.href = url; return; }
    var link = $('quiz-link');
    if (link) { link.hidden = true; }
    if (quizUrl !== url) { quizUrl = url; frame.src = url; }
    showQuiz(true);
  }

  function showQuiz(on) {
    var panel = $('quiz-panel'), back = $('quiz-show');
    if (!panel || !quizUrl) { return; }
    panel.hidden = !on;
    if (back) { back.hidden = on; }
    root.setAttribute('data-quiz', on ? 'shown' : 'folded');
  }

  // A chair below the attendance gate sees the plain explanation in the frame; while the quiz is open the
  // frame asks again every so often and lets her in as soon as her minutes reach the gate.
  setInterval(function () {
    var frame = $('quiz-frame');
    if (!quizUrl || !frame) { return; }
    try {
      var doc = frame.contentDocument;
      if (doc && doc.querySelector('[data-gate]')) { frame.contentWindow.location.reload(); }
    } catch (e) { /* another origin: leave it */ }
  }, cfg.gateRecheckMs || 30000);

  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text) { e.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function button(label, onClick) {
    var b = el('button', label, { type: 'button' });
    b.addEventListener('click', onClick);
    return b;
  }

  function renderChat(list, replace) {
    var ul = $('chat');
    if (!ul) { return; }
    if (replace) { ul.textContent = ''; }
    list.forEach(function (m) {
      var li = el('li', null, { 'data-id': m.id });
      li.appendChild(el('span', m.at + ' ', { 'class': 'meta' }));
      li.appendChild(el('strong', m.name + '：'));
      li.appendChild(el('span', m.text));
      if (cfg.role === 'moderator') {
        li.appendChild(button(L['delete'], function () { send({ type: 'remove_chat', id: m.id }); }));
      }
      ul.appendChild(li);
    });
    ul.scrollTop = ul.scrollHeight;
  }

  function nameOf(id) {
    var p = people.filter(function (x) { return x.id === id; })[0];
    return p ? p.name : String(id);
  }

  var lastQueue = [];
  function renderHands(queue) {
    lastQueue = queue;
    var ol = $('hands');
    // Her hand is hers, not this connection's: after a reconnect the queue says whether it is still up.
    var up = queue.indexOf(cfg.you) >= 0;
    if (up !== handUp) { handUp = up; updateSpeak(); }
    if (!ol) { return; }
    ol.textContent = '';
    queue.forEach(function (id) {
      var li = el('li', nameOf(id) + ' ');
      li.appendChild(button(L.allow, function () { send({ type: 'allow_speak', person: id }); }));
      ol.appendChild(li);
    });
  }

  function renderPeople() {
    var ul = $('people');
    if (!ul) { return; }
    ul.textContent = '';
    people.forEach(function (p) {
      var li = el('li', p.name + (p.hand ? ' ✋ ' + L.hand : '') + (p.speaking ? ' 🎤 ' + L.speaking : '') + ' ');
      if (p.id !== cfg.you) {
        if (p.speaking) { li.appendChild(button(L.revoke, function () { send({ type: 'revoke_speak', person: p.id }); })); }
        else if (p.role === 'viewer') { li.appendChild(button(L.allow, function () { send({ type: 'allow_speak', person: p.id }); })); }
        li.appendChild(button(p.muted ? L.unmute : L.mute, function () { send({ type: p.muted ? 'unmute' : 'mute', person: p.id }); }));
        li.appendChild(button(L.remove, function () { send({ type: 'remove', person: p.id }); }));
      }
      ul.appendChild(li);
    });
  }

  function renderAttendance(rows) {
    var ul = $('attendance');
    if (!ul) { return; }
    ul.textContent = '';
    rows.forEach(function (r) {
      ul.appendChild(el('li', r.name + '：' + r.minutes + ' ' + L.minutes + (r.present ? ' · ' + L.online : '')));
    });
  }

  function on(id, ev, fn) { var e = $(id); if (e) { e.addEventListener(ev, fn); } }

  on('publish-camera', 'click', function () { publish('camera'); });
  on('publish-screen', 'click', function () { publish('screen'); });
  on('unpublish', 'click', function () { stopLocal(); this.hidden = true; });
  on('speak', 'click', function () {
    if (localStreams.mic) { stopSource('mic'); notice(''); } else { publish('mic'); }
  });
  on('hand', 'click', function () {
    handUp = !handUp;
    send({ type: handUp ? 'raise_hand' : 'lower_hand' });
    notice(handUp ? L.hand_up_notice : '');
    updateSpeak();
  });
  on('audio-only', 'change', function () {
    send({ type: 'audio_only', on: this.checked });
    $('camera').hidden = this.checked;
    $('screen').hidden = true;
    var note = $('stage-note');
    var text = this.checked ? L.audio_only : (autoAudioOnly ? L.auto_audio_only : '');
    if (note) { note.textContent = text; note.hidden = !text; }
  });
  on('quiz-hide', 'click', function () { showQuiz(false); });
  on('quiz-show', 'click', function () { showQuiz(true); });
  // The moderator's open/close quiz buttons post in the background: she stays in the room, and the
  // counter arrives over the socket. Without JavaScript the form comes back to the room.
  Array.prototype.forEach.call(document.querySelectorAll('form.quiz-switch'), function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.fetch || !window.FormData) { return; }
      e.preventDefault();
      fetch(f.action, { method: 'POST', body: new URLSearchParams(new FormData(f)), credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) { notice(r.statusText || String(r.status)); } })
        .catch(function (err) { notice(String(err)); });
    });
  });

  // What this browser can do, said in Chinese where something is missing; WeChat's own browser gets the
  // way out to the phone's browser.
  function capsNote(lines) {
    var c = $('caps');
    if (!c || !lines.length) { return; }
    if (/MicroMessenger/i.test(navigator.userAgent)) { lines.push(L.wechat); }
    c.textContent = '';
    lines.forEach(function (t) { c.appendChild(el('p', t)); });
    c.hidden = false;
  }
  // 录制中 for everyone; the moderator's pause/resume button.
  var recording = 'off';
  function showRecording(state) {
    recording = state;
    var b = $('rec-badge');
    if (b) {
      b.hidden = state === 'off';
      b.textContent = state === 'recording' ? L.rec_on : L.rec_paused;
      b.className = 'rec-badge' + (state === 'recording' ? ' on' : '');
    }
    var t = $('record-toggle');
    if (t) {
      t.hidden = state === 'off';
      t.textContent = state === 'recording' ? L.rec_pause : L.rec_resume;
    }
  }
  on('record-toggle', 'click', function () { send({ type: 'record', on: recording !== 'recording' }); });
  function checkCaps() {
    var missing = [];
    if (!window.RTCPeerConnection) { missing.push(L.no_webrtc); }
    else if (window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities) {
      var v = RTCRtpReceiver.getCapabilities('video');
      var vp8 = v && v.codecs && v.codecs.some(function (c) { return /vp8/i.test(c.mimeType); });
      if (!vp8) { missing.push(L.no_vp8); }
    }
    capsNote(missing);
    // Without WebRTC the room cannot play: offer the lecture's sound as a plain stream.
    var li = $('listen-instead');
    if (li && missing.length) { li.hidden = false; }
  }
  function checkMic() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { capsNote([L.no_mic]); }
  }
  checkCaps();
  on('sound', 'click', function () {
    ['camera', 'screen', 'audio-lecturer', 'audio-speaker'].forEach(function (id) { var m = $(id); if (m.srcObject) { m.play(); } });
    this.hidden = true;
  });
  on('chat-form', 'submit', function (e) {
    e.preventDefault();
    var input = $('chat-text');
    if (input.value.trim()) { send({ type: 'chat', text: input.value }); input.value = ''; }
  });
  // With JavaScript the start/end buttons go over the socket (everyone switches at once).
  on('start', 'click', function (e) { e.preventDefault(); send({ type: 'start' }); });
  on('end', 'click', function (e) {
    e.preventDefault();
    if (window.confirm(L.confirm_end)) { send({ type: 'end' }); }
  });

  // Lobby countdown.
  var startsAt = new Date(cfg.startsAt).getTime();
  var cd = $('countdown');
  function tick() {
    if (!cd || status !== 'scheduled') { return; }
    var s = Math.max(0, Math.round((startsAt - Date.now()) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    // In words, as the quiz clock (1 小时 59 分, 9 分 59 秒): a clock face like 1:59:24 is easy to misread.
    cd.textContent = h
      ? L.in_hours.replace('{h}', h).replace('{m}', m)
      : L.in_minutes.replace('{m}', m).replace('{s}', sec);
  }
  setInterval(tick, 1000);
  tick();

  if (status !== 'cancelled') { connect(); }
})();
