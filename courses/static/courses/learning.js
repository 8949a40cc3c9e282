// Lesson progress: video heartbeats and "read to the end". Without JavaScript
// a reading lesson is still completed with its button; a video lesson needs it.
(function () {
  "use strict";
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/csrftoken=([^;]+)/);
    return match ? match[1] : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {}),
    }).then(function (response) { return response.json(); });
  }

  // Videos: report what was actually played, every 10 s and on pause, seek
  // and end. The server counts only what its clock allows, at no more than
  // the speed in data-max-rate: the player is held to that speed.
  document.querySelectorAll("video[data-video]").forEach(function (video) {
    var url = video.dataset.heartbeat;
    var maxRate = parseFloat(video.dataset.maxRate || "1") || 1;
    var from = null; // where the current stretch of playing began
    var played = 0; // the last position reached by playing (not by seeking)
    var last = 0;
    var queue = Promise.resolve();
    var status = document.querySelector("[data-video-status]");
    // One at a time, in order: the server times each from the one before.
    function report(beat) {
      last = Date.now();
      queue = queue.then(function () { return post(url, beat); }).then(function (result) {
        if (!status) return;
        if (result.completed) status.textContent = status.dataset.doneText || "✓";
        else if (result.error) status.textContent = result.error;
      }, function () {});
    }
    function send() {
      if (from === null) return;
      if (played > from) report({ video: video.dataset.video, from: from, to: played });
      from = played;
    }
    function start() {
      if (from !== null || video.seeking) return;
      from = played = video.currentTime;
      // Starts the server's clock for this stretch: nothing is counted yet.
      report({ video: video.dataset.video, from: from, to: from });
    }
    function clampRate() {
      if (video.playbackRate > maxRate) video.playbackRate = maxRate;
      if (video.defaultPlaybackRate > maxRate) video.defaultPlaybackRate = maxRate;
    }
    clampRate();
    video.addEventListener("ratechange", clampRate);
    video.addEventListener("loadedmetadata", function () {
      var resume = parseFloat(video.dataset.resume || "0");
      if (resume > 1 && resume < video.duration - 2) video.currentTime = resume;
    });
    video.addEventListener("playing", start);
    video.addEventListener("timeupdate", function () {
      if (from === null || video.seeking) return;
      played = video.currentTime;
      if (Date.now() - last > 10000) send();
    });
    // A seek ends the stretch where playing had reached, not where the seek lands.
    video.addEventListener("seeking", function () { send(); from = null; });
    video.addEventListener("seeked", function () { if (!video.paused) start(); });
    video.addEventListener("pause", function () { send(); from = null; });
    video.addEventListener("ended", function () { played = video.currentTime; send(); from = null; });
  });

  // Reading lessons: completed once the end of the lesson's own content
  // (the marker right after its body) has been in view AND the minimum time
  // since the first opening has passed. The server keeps that time and
  // refuses an early request, saying how long is left; this only counts down
  // what it said, so the learner sees when the lesson can be completed.
  function readToEnd(form, contentEnd) {
    var button = form.querySelector("[data-complete-button]");
    var left = form.querySelector("[data-reading-left]");
    var announce = document.querySelector("[data-reading-announce]");
    var deadline = Date.now() + 1000 * parseInt(form.dataset.secondsLeft || "0", 10);
    var endSeen = false;
    var sending = false;
    var done = false;
    var shownMinutes = null;
    var timer = null;

    var say = function (text, kind) {
      if (!announce) return;
      announce.className = kind ? "message message--" + kind : "";
      announce.textContent = text;
    };
    var finish = function () {
      done = true;
      if (timer) clearInterval(timer);
      var hadFocus = form.contains(document.activeElement);
      form.remove();
      say(form.dataset.doneText || "✓", "success");
      if (hadFocus && announce) {
        announce.tabIndex = -1;
        announce.focus();
      }
    };
    var send = function (byHand) {
      if (sending || done) return;
      sending = true;
      post(form.action).then(function (result) {
        sending = false;
        if (result.ok) return finish();
        if (result.seconds_left) {
          // Refused as too early: count down from the server's answer.
          deadline = Date.now() + 1000 * result.seconds_left;
          shownMinutes = null;
          start();
        }
        if (byHand || !result.seconds_left) say(result.error || "", "error");
      }, function () { sending = false; });
    };
    var tick = function () {
      var seconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      if (seconds > 0) {
        // Shown in whole minutes, changed once a minute.
        var minutes = Math.ceil(seconds / 60);
        if (left && minutes !== shownMinutes) {
          left.textContent = (form.dataset.leftText || "%s").replace("%s", minutes);
        }
        shownMinutes = minutes;
        return;
      }
      if (timer) clearInterval(timer);
      timer = null;
      if (left) left.textContent = form.dataset.readyText || "";
      if (button) button.textContent = form.dataset.buttonText || button.textContent;
      if (endSeen) send(false);
    };
    var start = function () {
      if (timer) clearInterval(timer);
      timer = setInterval(tick, 1000);
      tick();
    };

    // The button works by hand (and without JavaScript): once the time is up
    // the form is sent as usual and the server moves on to the next lesson;
    // an early click gets the server's answer, how long is left, in place.
    form.addEventListener("submit", function (event) {
      if (Date.now() >= deadline) return;
      event.preventDefault();
      send(true);
    });
    if (contentEnd && "IntersectionObserver" in window) {
      var observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (!entry.isIntersecting || endSeen) return;
          endSeen = true;
          observer.disconnect();
          if (Date.now() >= deadline) send(false);
        });
      });
      observer.observe(contentEnd);
    }
    start();
  }
  var readForm = document.querySelector("form[data-read-to-end]");
  if (readForm) readToEnd(readForm, document.querySelector("[data-lesson-content-end]"));
})();
