/* Quorum quiz: progressive enhancement of the answer forms.
 *
 * Without JavaScript every answer is a form post. With it, an answer is saved the moment it is chosen
 * and marked 已保存 only after the server confirms it was committed. While offline, answers wait in
 * localStorage on the phone and are sent when the network is back (also after a reload). The countdown
 * follows the server's deadline; at the deadline the page reloads and shows the result the server
 * submitted.
 */
(function () {
  'use strict';

  var root = document.getElementById('quiz');
  if (!root || !window.fetch) { return; }
  var api = root.getAttribute('data-api');
  var csrf = root.getAttribute('data-csrf');
  var deadline = new Date(root.getAttribute('data-deadline')).getTime();
  var key = 'quorum-quiz-' + root.getAttribute('data-attempt');
  var offline = document.getElementById('offline');

  function queue() {
    try { return JSON.parse(localStorage.getItem(key) || '{}'); } catch (e) { return {}; }
  }
  function store(q) {
    try { localStorage.setItem(key, JSON.stringify(q)); } catch (e) { /* private mode: keep in memory only */ }
  }

  function formOf(position) {
    return document.querySelector('form.question[data-position="' + position + '"]');
  }

  function markSaved(position, ok, message) {
    var form = formOf(position);
    if (form) {
      var badge = form.querySelector('.saved');
      if (badge) {
        badge.hidden = false;
        badge.textContent = ok ? badge.getAttribute('data-ok') || badge.textContent : message;
        badge.className = ok ? 'saved' : 'saved error';
      }
    }
    // Dots are found by their question, not by place: a 上一题 link may precede them in the nav.
    var dot = document.querySelector('.qnav a.qdot[data-position="' + Number(position) + '"]');
    if (ok && dot) { dot.classList.add('done'); }
    var count = document.getElementById('answered');
    if (count) {
      // One question per screen: the dots know every answer. All on one page: the saved badges do.
      var dots = document.querySelectorAll('.qnav a.qdot');
      var done = dots.length
        ? document.querySelectorAll('.qnav a.qdot.done').length
        : document.querySelectorAll('form.question .saved:not([hidden]):not(.error)').length;
      count.textContent = String(done);
    }
  }

  function answerOf(form) {
    var position = Number(form.getAttribute('data-position'));
    var truth = form.querySelector('input[name=truth]:checked');
    if (truth) { return { position: position, truth: truth.value === 'true' }; }
    var choice = Array.prototype.map.call(form.querySelectorAll('input[name=choice]:checked'), function (i) { return Number(i.value); });
    return choice.length ? { position: position, choice: choice } : null;
  }

  function send(answer) {
    return fetch(api, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(answer)
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    });
  }

  function save(answer) {
    var q = queue();
    q[answer.position] = answer;
    store(q);
    return send(answer).then(function (res) {
      var q2 = queue();
      delete q2[answer.position];
      store(q2);
      markSaved(answer.position, res.status === 200, res.body && res.body.error);
      if (offline) { offline.hidden = true; }
    }).catch(function () {
      // Network down: the answer stays queued on the phone.
      if (offline) { offline.hidden = false; }
    });
  }

  function flush() {
    var q = queue();
    var pending = Object.keys(q).map(function (p) { return save(q[p]); });
    return Promise.all(pending);
  }

  Array.prototype.forEach.call(document.querySelectorAll('form.question'), function (form) {
    var badge = form.querySelector('.saved');
    if (badge) { badge.setAttribute('data-ok', badge.textContent); }
    form.addEventListener('change', function () {
      // The chosen option's frame (CSS cannot reach the label from the input without :has()).
      Array.prototype.forEach.call(form.querySelectorAll('label.option'), function (l) {
        var input = l.querySelector('input');
        l.className = input && input.checked ? 'option chosen' : 'option';
      });
      var a = answerOf(form);
      if (a) { save(a); }
    });
  });

  var submit = document.querySelector('form.submit');
  if (submit) {
    submit.addEventListener('submit', function (e) {
      // Before 交卷: say which questions are still unanswered (numbers as the dots show them).
      var open = Array.prototype.map.call(document.querySelectorAll('.qnav a.qdot:not(.done)'), function (d) {
        return String(Number(d.getAttribute('data-position')) + 1);
      });
      var ask = open.length
        ? (submit.getAttribute('data-confirm-unanswered') || '').replace('{list}', open.join('、'))
        : submit.getAttribute('data-confirm');
      if (ask && !window.confirm(ask)) { e.preventDefault(); return; }
      // Asked here, so the server need not ask again with its confirmation page.
      var confirmed = submit.querySelector('input[name=confirm]');
      if (confirmed) { confirmed.value = 'yes'; }
      if (Object.keys(queue()).length === 0) { return; }
      e.preventDefault();
      flush().then(function () { submit.submit(); });
    });
  }

  window.addEventListener('online', flush);
  setInterval(function () { if (Object.keys(queue()).length) { flush(); } }, 10000);
  flush();

  var remaining = document.getElementById('remaining');
  var due = root.querySelector('.deadline .due');
  var english = (document.documentElement.getAttribute('lang') || '').indexOf('en') === 0;
  function tick() {
    var s = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (remaining) {
      // In words, not "9:59": older readers take a bare 9:59 for a clock time.
      var m = Math.floor(s / 60), sec = s % 60;
      remaining.textContent = english
        ? m + ' min ' + sec + ' s left'
        : '还剩 ' + m + ' 分 ' + sec + ' 秒';
      // The time left says it all; the due time is for pages without this script.
      if (due) { due.hidden = true; }
    }
    if (s === 0) {
      clearInterval(timer);
      // The server submits at the deadline; give it a moment, then show the result.
      flush().then(function () { setTimeout(function () { location.reload(); }, 12000); });
    }
  }
  var timer = setInterval(tick, 1000);
  tick();
})();
