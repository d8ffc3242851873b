/* The main navigation's menu button on narrow screens (issue 11). Without this script the
   navigation simply stays open; with it, site.css folds the navigation away below 900 px
   and the button (aria-expanded, aria-controls) opens and closes it. Escape closes it
   and returns focus to the button. */
(function () {
  "use strict";
  document.documentElement.classList.add("has-menu");

  function setUp() {
    var button = document.querySelector(".menu-button");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) return;
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
