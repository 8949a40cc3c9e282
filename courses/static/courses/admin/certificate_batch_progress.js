/* A bulk certificate run's progress, updated in place: asks the server for
 * the run's figures every 1.5 s until it is finished. The page works without
 * it (a <noscript> refresh); the summary line is an aria-live region, so a
 * screen reader hears "n of N done" as it changes. */
(function () {
  "use strict";

  var root = document.getElementById("batch-progress");
  if (!root || root.dataset.finished === "true") {
    return;
  }
  var url = root.dataset.progressUrl;
  var INTERVAL_MS = 1500;

  function setText(name, value) {
    root.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
      if (el.textContent !== String(value)) {
        el.textContent = String(value);
      }
    });
  }

  function renderFailures(failures) {
    var body = root.querySelector('[data-field="failures"]');
    var rows = failures.map(function (failure) {
      var row = document.createElement("tr");
      [failure.name, failure.email, failure.title, failure.error].forEach(function (text) {
        var cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      });
      return row;
    });
    body.replaceChildren.apply(body, rows);
    document.getElementById("batch-failures").hidden = failures.length === 0;
  }

  function render(status) {
    setText("summary", status.summary);
    setText("state_label", status.state_label);
    setText("issued", status.issued);
    setText("already", status.already);
    setText("failed", status.failed);
    var bar = document.getElementById("batch-progress-bar");
    bar.value = status.percent;
    bar.textContent = status.percent + "%";
    renderFailures(status.failures);
    if (status.finished) {
      root.dataset.finished = "true";
      document.getElementById("batch-finished").hidden = false;
    }
  }

  function poll() {
    fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        render(status);
        if (!status.finished) {
          window.setTimeout(poll, INTERVAL_MS);
        }
      })
      .catch(function () {
        // A moment without the server (a restart): try again later.
        window.setTimeout(poll, INTERVAL_MS * 2);
      });
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
