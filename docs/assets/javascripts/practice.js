// Practice mode: a site-wide switch in the header, remembered in localStorage (so across pages and
// offline). When it is on, the interview answer, the follow-up answers and the outputs marked as
// questions (class practice-answer: the "predict the result" answers and the outputs they refer to)
// are hidden behind "Show answer" buttons. Without JavaScript nothing is hidden: the page reads normally.
(function () {
  var KEY = "practice-mode";

  function stored() {
    try {
      return localStorage.getItem(KEY) === "on";
    } catch (e) {
      return false; // storage refused (privacy mode): the switch works for this page only
    }
  }

  function store(on) {
    try {
      localStorage.setItem(KEY, on ? "on" : "off");
    } catch (e) {
      /* nothing to remember it in */
    }
  }

  // The follow-ups: paragraphs after the "Follow-ups" heading that open with the question in bold. The
  // answer (the rest of the paragraph) is wrapped once, so it can be hidden.
  function followUpAnswers(root) {
    var heading = root.querySelector("h2[id^='follow-ups']");
    var found = [];
    for (var el = heading && heading.nextElementSibling; el && el.tagName !== "H2"; el = el.nextElementSibling) {
      var strong = el.tagName === "P" ? el.firstElementChild : null;
      if (!strong || strong.tagName !== "STRONG" || el.firstChild !== strong) continue;
      var span = el.querySelector(":scope > .practice-follow-up");
      if (!span) {
        span = document.createElement("span");
        span.className = "practice-follow-up";
        while (strong.nextSibling) span.appendChild(strong.nextSibling);
        el.appendChild(span);
      }
      found.push(span);
    }
    return found;
  }

  function reveal(button, target) {
    target.classList.remove("practice-hidden");
    button.remove();
  }

  function hide(target, label) {
    if (target.classList.contains("practice-hidden")) return;
    target.classList.add("practice-hidden");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "practice-reveal";
    button.textContent = label;
    button.addEventListener("click", function () {
      reveal(button, target);
    });
    if (target.classList.contains("admonition")) {
      target.querySelector(".admonition-title").after(button); // the box's title stays: it names the answer
    } else {
      target.before(button);
    }
  }

  function apply(on) {
    var root = document.querySelector(".md-content") || document.body;
    document.documentElement.classList.toggle("practice", on);
    var toggle = document.querySelector(".practice-toggle");
    if (toggle) {
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.title = on ? "Practice mode is on: answers are hidden. Turn it off" : "Practice mode: hide the answers";
    }
    if (!on) {
      root.querySelectorAll(".practice-reveal").forEach(function (b) {
        b.remove();
      });
      root.querySelectorAll(".practice-hidden").forEach(function (t) {
        t.classList.remove("practice-hidden");
      });
      return;
    }
    root.querySelectorAll(".admonition.abstract").forEach(function (t) {
      hide(t, "Show the answer");
    });
    followUpAnswers(root).forEach(function (t) {
      hide(t, "Show answer");
    });
    root.querySelectorAll(".practice-answer").forEach(function (t) {
      hide(t, "Show the output");
    });
  }

  // The switch, once: the header survives instant navigation.
  function addToggle() {
    if (document.querySelector(".practice-toggle")) return;
    var before = document.querySelector(".md-header__option") || document.querySelector(".md-search");
    if (!before) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "md-header__button practice-toggle";
    button.setAttribute("aria-pressed", "false");
    button.innerHTML =
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3 1 9l11 6 9-4.91V17h2V9M5 13.18v4L12 21l7-3.82v-4L12 17z"/></svg>' +
      '<span class="practice-toggle__label">Practice</span>';
    button.addEventListener("click", function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      store(on);
      apply(on);
    });
    before.parentNode.insertBefore(button, before);
  }

  function onPage() {
    addToggle();
    apply(stored());
  }

  if (typeof document$ !== "undefined" && document$.subscribe) {
    document$.subscribe(onPage); // every page, also after instant navigation
  } else {
    onPage();
  }
})();
