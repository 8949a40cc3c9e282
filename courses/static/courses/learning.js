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

  // Videos: report what was actually played, every 10 s and on pause/end.
  document.querySelectorAll("video[data-video]").forEach(function (video) {
    var url = video.dataset.heartbeat;
    var from = null;
    var last = 0;
    var status = document.querySelector("[data-video-status]");
    video.addEventListener("loadedmetadata", function () {
      var resume = parseFloat(video.dataset.resume || "0");
      if (resume > 1 && resume < video.duration - 2) video.currentTime = resume;
    });
    function send() {
      if (from === null || !video.duration) return;
      var to = video.currentTime;
      if (to <= from) { from = to; return; }
      var beat = { video: video.dataset.video, from: from, to: to, duration: video.duration };
      from = to;
      last = Date.now();
      post(url, beat).then(function (result) {
        if (result.completed && status) {
          status.textContent = status.dataset.doneText || "✓";
        }
      });
    }
    video.addEventListener("play", function () { from = video.currentTime; post(url, { video: video.dataset.video, from: from, to: from, duration: video.duration }); });
    video.addEventListener("seeking", function () { send(); });
    video.addEventListener("seeked", function () { from = video.paused ? null : video.currentTime; });
    video.addEventListener("timeupdate", function () { if (Date.now() - last > 10000) send(); });
    video.addEventListener("pause", send);
    video.addEventListener("ended", send);
  });

  // Reading lessons: completed when the end of the lesson comes into view.
  var form = document.querySelector("form[data-read-to-end]");
  var end = document.getElementById("lesson-end");
  if (form && end && "IntersectionObserver" in window) {
    var sent = false;
    new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && !sent && document.documentElement.scrollHeight > window.innerHeight * 1.2) {
          sent = true;
          post(form.action).then(function (result) {
            if (result.ok) form.outerHTML = "<p class=\"message message--success\">" + (form.dataset.doneText || "✓") + "</p>";
          });
        }
      });
    }).observe(end);
  }
})();
