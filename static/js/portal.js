// The portal's only script: the small-screen menu toggle. Everything works without it.
(function () {
  var toggle = document.querySelector(".main-nav__toggle");
  var list = document.getElementById("main-nav-list");
  if (!toggle || !list) return;
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    list.classList.toggle("is-open", !open);
  });
})();
