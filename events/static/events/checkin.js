// The check-in station (events/templates/events/checkin/checkin.html), made better:
// the form posts in the background and the result is announced in the live
// region, ready for the next code; where the browser has BarcodeDetector, a
// camera button scans the QR code. Without this script the form still works.
(function () {
  "use strict";
  var root = document.querySelector("[data-checkin]");
  if (!root) return;
  var form = root.querySelector("[data-checkin-form]");
  var input = form.querySelector("input[name=code]");
  var submit = form.querySelector("button[type=submit]");
  var result = root.querySelector("[data-checkin-result]");
  var count = root.querySelector("[data-checkin-count]");
  var scan = root.querySelector("[data-checkin-scan]");
  var camera = root.querySelector("[data-checkin-camera]");
  var video = root.querySelector("[data-checkin-video]");
  var stop = root.querySelector("[data-checkin-stop]");
  var busy = false;

  function show(ok, message) {
    result.className = "checkin__result checkin__result--" + (ok ? "ok" : "refused");
    result.textContent = message;
  }

  // The code inside a scanned link (…/events/check-in/?code=…), or the text.
  function codeOf(text) {
    text = (text || "").trim();
    var match = /[?&]code=([^&#\s]+)/.exec(text);
    return match ? decodeURIComponent(match[1]) : text;
  }

  form.addEventListener("submit", function (event) {
    if (!window.fetch || !window.FormData) return; // the plain post then
    event.preventDefault();
    if (busy) return;
    busy = true;
    submit.disabled = true;
    result.className = "checkin__result";
    result.textContent = root.dataset.msgSending;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "checkin", Accept: "application/json" },
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        show(data.ok, data.message);
        if (data.count && count) count.textContent = data.count.text;
        var confirm = root.querySelector(".checkin__confirm");
        if (confirm) confirm.remove();
        input.value = "";
      })
      .catch(function () {
        show(false, root.dataset.msgFailed);
      })
      .then(function () {
        busy = false;
        submit.disabled = false;
        input.focus();
      });
  });

  // --- the camera --------------------------------------------------------
  if (!scan || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var stream = null;
  var detector = null;

  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    camera.hidden = true;
    scan.hidden = false;
  }

  function look() {
    if (!stream) return;
    detector
      .detect(video)
      .then(function (codes) {
        if (codes.length && codes[0].rawValue) {
          input.value = codeOf(codes[0].rawValue);
          stopCamera();
          if (form.requestSubmit) form.requestSubmit();
          else submit.click();
          return;
        }
        window.setTimeout(look, 250);
      })
      .catch(function () {
        window.setTimeout(look, 500);
      });
  }

  window.BarcodeDetector.getSupportedFormats()
    .then(function (formats) {
      if (formats.indexOf("qr_code") === -1) return;
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      scan.hidden = false;
    })
    .catch(function () {});

  scan.addEventListener("click", function () {
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        camera.hidden = false;
        scan.hidden = true;
        result.className = "checkin__result";
        result.textContent = root.dataset.msgScanning;
        return video.play();
      })
      .then(function () {
        stop.focus();
        look();
      })
      .catch(function () {
        stopCamera();
        show(false, root.dataset.msgCameraError);
      });
  });
  stop.addEventListener("click", function () {
    stopCamera();
    scan.focus();
  });
})();
