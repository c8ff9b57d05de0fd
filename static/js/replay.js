// The replay page: speed buttons, chapter links that seek, and watch-time reports.
//
// The server credits watch time from these reports (`domain::replay`): every 10 s while playing, and
// at each pause, seek and end. A report after a seek or a (re)start says `jumped`, so the stretch
// between two reports is credited only when it was actually played.
(function () {
  "use strict";
  var box = document.getElementById("replay-player");
  var media = document.getElementById("replay");
  if (!box || !media) return;
  var url = box.getAttribute("data-progress");
  var csrf = box.getAttribute("data-csrf");
  var device = null;
  try {
    device = localStorage.getItem("quorum-device");
    if (!device) {
      device = Math.random().toString(36).slice(2) + Date.now().toString(36);
      localStorage.setItem("quorum-device", device);
    }
  } catch (e) {
    device = Math.random().toString(36).slice(2);
  }
  // A page per tab: two tabs of one phone are two devices (they share one allowance on the server).
  device = device + "-" + Math.random().toString(36).slice(2, 6);

  var lastPos = 0; // where playback stood at the last timeupdate before a seek
  var pendingJump = true;

  function show(w) {
    if (!w) return;
    var set = function (id, v) { var el = document.getElementById(id); if (el) el.textContent = v; };
    set("live-minutes", w.live_minutes);
    set("replay-minutes", w.replay_minutes);
    set("percent", w.percent);
  }

  function report(position, jumped) {
    var body = new URLSearchParams();
    body.set("csrf", csrf);
    body.set("device", device);
    body.set("position_ms", String(Math.max(0, Math.floor(position * 1000))));
    body.set("jumped", jumped ? "true" : "false");
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(show)
      .catch(function () {});
  }

  media.addEventListener("timeupdate", function () { if (!media.seeking) lastPos = media.currentTime; });
  media.addEventListener("play", function () { report(media.currentTime, pendingJump); pendingJump = false; });
  media.addEventListener("pause", function () { report(media.currentTime, false); });
  media.addEventListener("ended", function () { report(media.currentTime, false); });
  media.addEventListener("seeking", function () {
    // What was played up to the seek still counts; the next report starts afresh.
    if (!media.paused) report(lastPos, false);
  });
  media.addEventListener("seeked", function () {
    lastPos = media.currentTime;
    report(media.currentTime, true);
  });
  setInterval(function () {
    if (!media.paused && !media.ended) report(media.currentTime, false);
  }, 10000);

  var buttons = document.querySelectorAll("[data-rate]");
  Array.prototype.forEach.call(buttons, function (b) {
    b.addEventListener("click", function () {
      media.playbackRate = parseFloat(b.getAttribute("data-rate"));
      Array.prototype.forEach.call(buttons, function (o) { o.setAttribute("aria-pressed", o === b ? "true" : "false"); });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-seek]"), function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      media.currentTime = parseFloat(a.getAttribute("data-seek"));
      media.play().catch(function () {});
    });
  });
})();
