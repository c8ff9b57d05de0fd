/* Quorum read-aloud (朗读): progressive enhancement for readers who find small print hard.
 *
 * A `button.read-aloud` (hidden until this script runs) reads the element named by its `data-read`
 * attribute: each of its `[data-say]` parts in turn (the attribute's value, or the part's text when the
 * value is empty), or the whole element when it has none. The part being read is highlighted. It uses the
 * browser's own speech synthesis with a Chinese voice; where there is none, the button says so in words
 * instead of doing nothing. Pressing it again stops.
 */
(function () {
  'use strict';

  var buttons = document.querySelectorAll('button.read-aloud');
  if (!buttons.length) { return; }
  var synth = window.speechSynthesis;
  var Utterance = window.SpeechSynthesisUtterance;
  var current = null;

  function label(button) { return button.querySelector('.label') || button; }

  function setLabel(button, text) { label(button).textContent = text; }

  // Say in the button itself why nothing is read (no engine, no Chinese voice).
  function unavailable(button, text) {
    setLabel(button, text);
    button.className = 'read-aloud unavailable';
  }

  // The best voice for a language: an exact match (zh-CN), else the same language (zh-*), else none.
  // `any` tells apart "no voices listed" (some WebViews list none yet still speak) from "no Chinese one".
  function voiceFor(lang) {
    var voices = (synth && synth.getVoices && synth.getVoices()) || [];
    var want = lang.toLowerCase().replace('_', '-');
    var base = want.split('-')[0];
    var exact = null, near = null;
    for (var i = 0; i < voices.length; i++) {
      var v = String(voices[i].lang || '').toLowerCase().replace('_', '-');
      if (v === want && !exact) { exact = voices[i]; }
      if (v.split('-')[0] === base && !near) { near = voices[i]; }
    }
    return { any: voices.length > 0, voice: exact || near };
  }

  function partsOf(button) {
    var target = document.getElementById(button.getAttribute('data-read'));
    if (!target) { return []; }
    var marked = target.querySelectorAll('[data-say]');
    var list = marked.length ? Array.prototype.slice.call(marked) : [target];
    return list.filter(function (el) {
      return !el.hidden && (el.getAttribute('data-say') || el.textContent).replace(/\s+/g, '');
    });
  }

  function textOf(el) {
    return (el.getAttribute('data-say') || el.textContent).replace(/\s+/g, ' ').trim();
  }

  function finish(state) {
    if (current !== state) { return; }
    current = null;
    state.parts.forEach(function (el) { el.classList.remove('reading'); });
    setLabel(state.button, state.button.getAttribute('data-start'));
  }

  function stop() {
    var state = current;
    if (!state) { return; }
    finish(state);
    if (synth) { synth.cancel(); }
  }

  function speakNext(state) {
    if (current !== state) { return; }
    if (state.index > 0) { state.parts[state.index - 1].classList.remove('reading'); }
    if (state.index >= state.parts.length) { finish(state); return; }
    var el = state.parts[state.index];
    el.classList.add('reading');
    var u = new Utterance(textOf(el));
    u.lang = state.lang;
    if (state.voice) { u.voice = state.voice; }
    u.rate = 0.9;  // a little slower than the default, for older listeners
    u.onstart = function () { state.started = true; };
    u.onend = function () { state.index += 1; speakNext(state); };
    u.onerror = function () {
      var never = !state.started;
      finish(state);
      if (never) { unavailable(state.button, state.button.getAttribute('data-novoice')); }
    };
    synth.speak(u);
  }

  function start(button) {
    if (!synth || !Utterance) { unavailable(button, button.getAttribute('data-none')); return; }
    var lang = button.getAttribute('data-lang') || 'zh-CN';
    var found = voiceFor(lang);
    if (found.any && !found.voice) { unavailable(button, button.getAttribute('data-novoice')); return; }
    var parts = partsOf(button);
    if (!parts.length) { return; }
    var state = { button: button, parts: parts, index: 0, lang: lang, voice: found.voice, started: false };
    current = state;
    setLabel(button, button.getAttribute('data-stop'));
    synth.cancel();
    speakNext(state);
    // A browser with an engine but no voice for the language may neither speak nor report an error.
    setTimeout(function () {
      if (current === state && !state.started) {
        stop();
        unavailable(button, button.getAttribute('data-novoice'));
      }
    }, 5000);
  }

  // A button for a notice that comes and goes (the live room's) is shown only while the notice is.
  function follow(button) {
    var target = document.getElementById(button.getAttribute('data-read'));
    var sync = function () { button.hidden = !target || target.hidden; };
    sync();
    if (target && window.MutationObserver) {
      new MutationObserver(sync).observe(target, { attributes: true, attributeFilter: ['hidden'] });
    }
  }

  Array.prototype.forEach.call(buttons, function (button) {
    button.setAttribute('data-start', label(button).textContent);
    follow(button);
    button.addEventListener('click', function () {
      if (current && current.button === button) { stop(); return; }
      stop();
      start(button);
    });
  });
  // Voices load late in Chrome; asking once early makes them ready by the first press.
  if (synth && synth.getVoices) { synth.getVoices(); }
  window.addEventListener('pagehide', stop);
})();
