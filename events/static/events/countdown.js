// Campaign countdowns on the home page. Each [data-countdown] element carries
// the seconds left, as the server counted them (the visitor's clock may be
// wrong); its [data-countdown-days|hours|minutes] numbers are brought up to
// date every minute, and at zero the page reloads, so that the campaign
// appears (or, at its end, the usual home page returns) in front of the
// visitor. Without JavaScript the numbers stay as the server wrote them.
(function () {
  var timers = document.querySelectorAll("[data-countdown]");
  if (!timers.length) return;
  var loadedAt = Date.now();
  // After the reload the server decides: a second reload only if it still
  // counts down (a clock a little ahead of the server's), never in a loop.
  var reloading = false;

  function set(timer, name, value) {
    var element = timer.querySelector("[data-countdown-" + name + "]");
    if (element) element.textContent = String(value);
  }

  function tick() {
    var elapsed = Math.floor((Date.now() - loadedAt) / 1000);
    var next = 60;
    for (var i = 0; i < timers.length; i++) {
      var timer = timers[i];
      var left = parseInt(timer.getAttribute("data-seconds"), 10) - elapsed;
      if (isNaN(left)) continue;
      if (left <= 0) {
        if (!reloading) {
          reloading = true;
          window.location.reload();
        }
        return;
      }
      var minutes = Math.ceil(left / 60);
      set(timer, "days", Math.floor(minutes / 1440));
      set(timer, "hours", Math.floor((minutes % 1440) / 60));
      set(timer, "minutes", minutes % 60);
      // Wake at the next whole minute of the count, or at zero.
      next = Math.min(next, left % 60 || 60, left);
    }
    window.setTimeout(tick, next * 1000 + 50);
  }

  tick();
})();
