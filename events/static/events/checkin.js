// The check-in station (events/templates/events/checkin/checkin.html), made better:
// - the form posts in the background and the result is announced in the live
//   region, ready for the next code;
// - the camera scans QR codes continuously: the browser's BarcodeDetector where
//   it has one (Android Chrome), else jsQR (vendored, events/vendor/jsqr) on
//   getUserMedia frames (iPhone Safari);
// - with no network, scans wait in localStorage (per staff member and event)
//   with the time they were made, and are sent one by one when it returns; the
//   server counts a code once, so a scan sent twice is "already checked in".
//   Their answers go to the queue's own line: the result line keeps the
//   answer to the person in front of the phone, in sight;
// - the name search and the walk-in form answer in place.
// Without this script every form still works (post/redirect/get).
(function () {
  "use strict";
  var root = document.querySelector("[data-checkin]");
  if (!root) return;
  var form = root.querySelector("[data-checkin-form]");
  var input = form.querySelector("input[name=code]");
  var submit = form.querySelector("button[type=submit]");
  var result = root.querySelector("[data-checkin-result]");
  var count = root.querySelector("[data-checkin-count]");
  var bar = root.querySelector("[data-checkin-bar]");
  var scan = root.querySelector("[data-checkin-scan]");
  var camera = root.querySelector("[data-checkin-camera]");
  var video = root.querySelector("[data-checkin-video]");
  var stop = root.querySelector("[data-checkin-stop]");
  var queueLine = root.querySelector("[data-checkin-queue]");
  var searchForm = root.querySelector("[data-checkin-search]");
  var results = root.querySelector("[data-checkin-results]");
  var walkin = root.querySelector("[data-checkin-walkin]");
  var queueKey = root.dataset.queueKey || "";
  var msg = root.dataset;

  function show(ok, message) {
    result.className = "checkin__result checkin__result--" + (ok ? "ok" : "refused");
    result.textContent = message;
  }

  function csrf() {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // The code inside a scanned link (…/events/check-in/?code=…), or the text.
  function codeOf(text) {
    text = (text || "").trim();
    var match = /[?&]code=([^&#\s]+)/.exec(text);
    return match ? decodeURIComponent(match[1]) : text;
  }

  // Crockford's base32 as the server reads it (events/checkin/codes.py):
  // the stored form, or "" when the text is no short code. Old 20-character
  // codes are passed on as they are.
  function normalise(code) {
    var text = code.replace(/[\s\u2010-\u2015\u2212-]+/g, "").toUpperCase();
    text = text.replace(/[IL]/g, "1").replace(/O/g, "0");
    return /^[0-9A-HJKMNP-TV-Z]{8}$/.test(text) ? text : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        "X-Requested-With": "checkin",
        "X-CSRFToken": csrf(),
        Accept: "application/json",
      },
    }).then(function (response) {
      // A server error or a sign-in page is no answer: the scan stays queued.
      var type = response.headers.get("Content-Type") || "";
      if (response.status >= 500 || type.indexOf("application/json") === -1) {
        throw new Error("no answer");
      }
      return response.json();
    });
  }

  function counted(data) {
    if (data.count && count) count.textContent = data.count.text;
  }

  function answered(data) {
    show(data.ok, data.message);
    counted(data);
  }

  // The answer to the person in front of the phone, where the staff member
  // looks: on a small phone scrolled down to the field (or under its
  // keyboard) the result line above it would be out of sight.
  function reveal() {
    if (result.scrollIntoView) result.scrollIntoView({ block: "nearest" });
  }

  // --- the queue (offline scans) -------------------------------------------
  function readQueue() {
    if (!queueKey) return [];
    try {
      return JSON.parse(window.localStorage.getItem(queueKey) || "[]");
    } catch (e) {
      return [];
    }
  }
  function writeQueue(items) {
    try {
      window.localStorage.setItem(queueKey, JSON.stringify(items));
    } catch (e) {}
    showQueue(items);
  }
  // The last queued scan's answer, shown on the queue's line (not on the
  // result line, which answers the person in front of the phone) until the
  // staff member's next check-in once the queue is empty.
  var lastSent = "";
  function showQueue(items) {
    if (!queueLine) return;
    var parts = [];
    if (lastSent) parts.push(lastSent);
    if (items.length) parts.push(msg.msgWaiting + " " + items.length);
    queueLine.hidden = !parts.length;
    queueLine.textContent = parts.join(" ");
  }
  function ownAnswer() {
    if (lastSent && !readQueue().length) {
      lastSent = "";
      showQueue([]);
    }
    reveal();
  }
  function enqueue(code, scannedAt) {
    var items = readQueue();
    // The same code twice in the queue is sent once.
    for (var i = 0; i < items.length; i++) if (items[i].code === code) return;
    items.push({ code: code, scanned_at: scannedAt });
    writeQueue(items);
  }

  var flushing = false;
  function flush() {
    if (flushing || !queueKey) return;
    var items = readQueue();
    if (!items.length) return;
    flushing = true;
    var item = items[0];
    var body = new FormData();
    body.append("code", item.code);
    body.append("scanned_at", item.scanned_at);
    // By the same clock: the server counts only the wait, whatever the time
    // the phone shows.
    body.append("sent_at", new Date().toISOString());
    post(form.action, body)
      .then(function (data) {
        // Answered (checked in, already checked in, or refused): done with it.
        lastSent = msg.msgSentQueued + " " + data.message;
        writeQueue(
          readQueue().filter(function (other) {
            return other.code !== item.code;
          })
        );
        counted(data);
        flushing = false;
        flush();
      })
      .catch(function () {
        flushing = false; // still offline: the next try will do
      });
  }

  var busy = false;
  function checkIn(code) {
    var scannedAt = new Date().toISOString();
    var short = normalise(code);
    if (!short && code.length !== 20) {
      show(false, msg.msgBadCode);
      ownAnswer();
      return Promise.resolve();
    }
    if (queueKey && navigator.onLine === false) {
      enqueue(short || code, scannedAt);
      show(true, msg.msgQueued);
      ownAnswer();
      return Promise.resolve();
    }
    var body = new FormData(form);
    body.set("code", code); // sent now: the server's clock dates it
    result.className = "checkin__result";
    result.textContent = msg.msgSending;
    return post(form.action, body)
      .then(function (data) {
        answered(data);
        ownAnswer();
      })
      .catch(function () {
        if (queueKey) {
          enqueue(short || code, scannedAt);
          show(true, msg.msgQueued);
        } else {
          show(false, msg.msgFailed);
        }
        ownAnswer();
      });
  }

  form.addEventListener("submit", function (event) {
    if (!window.fetch || !window.FormData) return; // the plain post then
    event.preventDefault();
    if (busy) return;
    var picked = form.querySelector("input[name=registration]");
    // What was sent: the field is emptied for the next code only if it still
    // holds it (the next person's code may be typed while this one is sent).
    var sent = input ? input.value : "";
    busy = true;
    submit.disabled = true;
    var done;
    if (picked && picked.value) {
      result.textContent = msg.msgSending;
      done = post(form.action, new FormData(form))
        .then(function (data) {
          answered(data);
          window.location.replace(form.action); // back to the code field
        })
        .catch(function () {
          show(false, msg.msgFailed);
        });
    } else {
      done = checkIn(codeOf(input.value));
    }
    done.then(function () {
      var confirm = root.querySelector(".checkin__confirm");
      if (confirm) confirm.remove();
      if (input && input.value === sent) input.value = "";
      busy = false;
      submit.disabled = false;
      if (input) input.focus();
    });
  });

  if (queueKey) {
    showQueue(readQueue());
    window.addEventListener("online", flush);
    window.setInterval(flush, 5000);
    flush();
  }

  // --- search by name or phone ---------------------------------------------
  function personItem(person) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "checkin__person";
    name.textContent = person.name;
    li.appendChild(name);
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = [person.phone, person.email, person.status]
      .filter(Boolean)
      .join(" · ");
    li.appendChild(meta);
    if (person.confirmed && !person.checked_in) {
      var pick = document.createElement("button");
      pick.type = "button";
      pick.className = "button checkin__pick";
      pick.textContent = msg.msgPick + " " + person.name;
      pick.addEventListener("click", function () {
        confirmPick(li, person);
      });
      li.appendChild(pick);
    }
    return li;
  }

  function confirmPick(li, person) {
    var old = results.querySelector(".checkin__picked");
    if (old) old.remove();
    var box = document.createElement("div");
    box.className = "checkin__picked";
    var question = document.createElement("p");
    question.textContent = msg.msgConfirm + " " + person.name;
    box.appendChild(question);
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "button";
    yes.textContent = submit.textContent.trim() === "" ? "OK" : submit.textContent;
    yes.addEventListener("click", function () {
      yes.disabled = true;
      var body = new FormData();
      body.append("registration", person.id);
      post(form.action, body)
        .then(function (data) {
          answered(data);
          ownAnswer();
          results.textContent = "";
          searchForm.querySelector("input[name=q]").value = "";
          result.focus();
        })
        .catch(function () {
          yes.disabled = false;
          show(false, msg.msgFailed);
        });
    });
    box.appendChild(yes);
    li.appendChild(box);
    yes.focus();
  }

  if (searchForm && results) {
    searchForm.addEventListener("submit", function (event) {
      if (!window.fetch) return;
      event.preventDefault();
      var q = searchForm.querySelector("input[name=q]").value.trim();
      if (!q) return;
      results.textContent = msg.msgSearching;
      fetch(searchForm.action + "?q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { "X-Requested-With": "checkin", Accept: "application/json" },
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (data) {
          results.textContent = "";
          if (!data.results.length) {
            var none = document.createElement("p");
            none.textContent = msg.msgNoResults;
            results.appendChild(none);
            return;
          }
          var list = document.createElement("ul");
          list.className = "checkin__results";
          data.results.forEach(function (person) {
            list.appendChild(personItem(person));
          });
          results.appendChild(list);
        })
        .catch(function () {
          results.textContent = msg.msgFailed;
        });
    });
  }

  // --- walk-ins -------------------------------------------------------------
  if (walkin) {
    walkin.addEventListener("submit", function (event) {
      if (!window.fetch) return;
      event.preventDefault();
      var button = walkin.querySelector("button[type=submit]");
      button.disabled = true;
      post(walkin.action, new FormData(walkin))
        .then(function (data) {
          answered(data);
          ownAnswer();
          if (data.ok) walkin.reset();
          result.focus();
        })
        .catch(function () {
          show(false, msg.msgFailed);
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  // --- the camera -----------------------------------------------------------
  if (!scan || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var stream = null;
  var detector = null;
  var canvas = null;
  var lastCode = "";
  var lastAt = 0;
  bar.hidden = false;

  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    camera.hidden = true;
    bar.hidden = false;
  }

  function found(text) {
    var code = codeOf(text);
    var now = Date.now();
    // The same QR code in front of the camera is one scan, however long it
    // stays in view: read again only once out of sight for 4 seconds.
    if (code === lastCode && now - lastAt < 4000) {
      lastAt = now;
      return;
    }
    lastCode = code;
    lastAt = now;
    if (navigator.vibrate) navigator.vibrate(80);
    checkIn(code);
  }

  // One frame: BarcodeDetector, or jsQR on the pixels drawn to a canvas.
  function detect() {
    if (detector) {
      return detector.detect(video).then(function (codes) {
        return codes.length ? codes[0].rawValue : "";
      });
    }
    var width = video.videoWidth;
    var height = video.videoHeight;
    if (!width || !height || !window.jsQR) return Promise.resolve("");
    var scale = Math.min(1, 640 / Math.max(width, height));
    canvas = canvas || document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    var code = window.jsQR(pixels.data, pixels.width, pixels.height, {
      inversionAttempts: "dontInvert",
    });
    return Promise.resolve(code ? code.data : "");
  }

  function look() {
    if (!stream) return;
    detect()
      .then(function (text) {
        if (text) found(text);
        window.setTimeout(look, 200);
      })
      .catch(function () {
        window.setTimeout(look, 500);
      });
  }

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = root.dataset.jsqr;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function decoder() {
    if (detector || window.jsQR) return Promise.resolve();
    if ("BarcodeDetector" in window) {
      return window.BarcodeDetector.getSupportedFormats()
        .then(function (formats) {
          if (formats.indexOf("qr_code") === -1) return loadJsQR();
          detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        })
        .catch(loadJsQR);
    }
    return loadJsQR();
  }

  scan.addEventListener("click", function () {
    decoder()
      .then(function () {
        return navigator.mediaDevices.getUserMedia({
          video: { facingMode: "environment" },
          audio: false,
        });
      })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        camera.hidden = false;
        bar.hidden = true;
        result.className = "checkin__result";
        result.textContent = msg.msgScanning;
        return video.play();
      })
      .then(function () {
        stop.focus();
        look();
      })
      .catch(function () {
        stopCamera();
        show(false, msg.msgCameraError);
      });
  });
  stop.addEventListener("click", function () {
    stopCamera();
    scan.focus();
  });
})();
