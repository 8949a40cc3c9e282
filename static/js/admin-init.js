/*
 * Wagtail's admin without inline scripts.
 *
 * Wagtail 8 starts its inline panels, date pickers and choosers with inline
 * <script> elements; the Content-Security-Policy refuses them. The portal's
 * templates (portal/templates/wagtailadmin/) and its chooser widgets
 * (portal/admin_scripts.py) write the same calls as data attributes instead,
 * and this file makes them: for the elements in the page when it has been
 * parsed, and for those inserted later (an inline panel's new child form, a
 * chooser modal), each element once.
 *
 * Only the functions named below can be called: an attacker who got HTML but
 * no script into an admin page cannot use these attributes to call anything
 * else (eval, fetch...).
 */
(function () {
  "use strict";

  var ATTRIBUTE = "data-portal-admin-init";
  var SELECTOR = "[" + ATTRIBUTE + "]";
  // Wagtail's chooser widgets' constructors (window globals, from each
  // widget's media), by the name the server writes.
  var CHOOSERS = [
    "Chooser",
    "PageChooser",
    "ImageChooser",
    "DocumentChooser",
    "SnippetChooser",
  ];
  var DATE_CHOOSERS = {
    date: "initDateChooser",
    datetime: "initDateTimeChooser",
    time: "initTimeChooser",
  };

  var done = new WeakSet();

  function json(element, name) {
    return JSON.parse(element.getAttribute(name));
  }

  // Each returns false when the function it needs is not (yet) defined, so
  // that the element is tried again once every script has loaded.
  var initialisers = {
    "inline-panel": function (element) {
      if (typeof window.InlinePanel !== "function") return false;
      new window.InlinePanel(json(element, "data-portal-admin-options"));
      return true;
    },
    "multiple-chooser-panel": function (element) {
      if (typeof window.MultipleChooserPanel !== "function") return false;
      new window.MultipleChooserPanel(
        json(element, "data-portal-admin-options"),
      );
      return true;
    },
    "date-chooser": function (element) {
      var name = DATE_CHOOSERS[element.getAttribute("data-portal-admin-kind")];
      if (!name || typeof window[name] !== "function") return false;
      window[name](element.id, json(element, "data-portal-admin-config"));
      return true;
    },
    chooser: function (element) {
      var id = element.getAttribute("data-portal-admin-id");
      var constructor = element.getAttribute("data-portal-admin-constructor");
      if (constructor === "createTaskChooser") {
        if (typeof window.createTaskChooser !== "function") return false;
        window.createTaskChooser(id);
        return true;
      }
      if (
        CHOOSERS.indexOf(constructor) === -1 ||
        typeof window[constructor] !== "function"
      ) {
        return false;
      }
      new window[constructor](id, json(element, "data-portal-admin-options"));
      return true;
    },
  };

  function initialise(element) {
    if (done.has(element)) return;
    var initialiser = initialisers[element.getAttribute(ATTRIBUTE)];
    if (!initialiser) return;
    try {
      if (initialiser(element)) done.add(element);
    } catch (error) {
      // One broken widget must not stop the others.
      done.add(element);
      console.error(error);
    }
  }

  function initialiseWithin(root) {
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    // Document order, as the inline scripts ran: a child form's widgets
    // before the panel that holds them.
    if (root.matches(SELECTOR)) initialise(root);
    root.querySelectorAll(SELECTOR).forEach(initialise);
  }

  initialiseWithin(document.documentElement);
  // Anything whose script comes later (a deferred script) gets another try.
  document.addEventListener("DOMContentLoaded", function () {
    initialiseWithin(document.documentElement);
  });
  // New child forms (from the panel's <template>), modals' forms. Elements
  // inside a <template> are not in the document: they start once inserted.
  new MutationObserver(function (mutations) {
    mutations.forEach(function (mutation) {
      mutation.addedNodes.forEach(initialiseWithin);
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
